"""URL map of the API server: the admin and the Execution API; the UI and REST API mount here
as they land."""

from django.contrib import admin
from django.urls import path

from dagruns.api.execution.api import api as execution_api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("execution/", execution_api.urls),
]
