"""Websocket URL routes (mounted by orchestrator_site/asgi.py)."""

from django.urls import re_path

from dagruns.consumers import LiveConsumer

websocket_urlpatterns = [
    re_path(r"^ws/dags/$", LiveConsumer.as_asgi()),
    re_path(r"^ws/dags/(?P<dag_id>.+)/$", LiveConsumer.as_asgi()),
]
