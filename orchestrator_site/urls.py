"""URL map of the API server: admin for now; the UI, REST API and Execution API mount here."""

from django.contrib import admin
from django.urls import path

from dagruns.api.execution.api import api as execution_api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("execution/", execution_api.urls),
]
