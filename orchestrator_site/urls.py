"""URL map of the API server: admin for now; the UI, REST API and Execution API mount here."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
