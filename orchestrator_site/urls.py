"""URL map of the API server: admin for now; the UI, REST API and Execution API mount here."""

from django.contrib import admin
from django.urls import include, path

from dagruns.api.execution.api import api as execution_api
from dagruns.api.rest.api import api as rest_api
from dagruns.api.rest.token_view import create_token

urlpatterns = [
    path("admin/", admin.site.urls),
    path("execution/", execution_api.urls),
    path("api/v2/", rest_api.urls),
    path("auth/token", create_token, name="auth_token"),
    path("", include("dagruns.urls")),
]
