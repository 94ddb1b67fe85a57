"""The OpenAPI document validates, and the interactive docs are served from this server."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_the_openapi_document_is_a_valid_openapi_3_1_document():
    response = Client().get("/api/v2/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_document_uses_airflows_paths_and_operation_ids():
    document = json.loads(Client().get("/api/v2/openapi.json").content)
    paths = document["paths"]
    log = "/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{try_number}"
    assert paths[log]["get"]["operationId"] == "get_log"
    assert paths["/api/v2/dags/{dag_id}/clearTaskInstances"]["post"]["operationId"] == (
        "post_clear_task_instances"
    )
    assert paths["/api/v2/variables"]["post"]["responses"].keys() >= {"201", "401", "403", "409"}


def test_the_docs_page_references_no_other_host():
    html = Client().get("/api/v2/docs").content.decode()
    assert "swagger-ui-bundle.js" in html
    hosts = re.findall(r"""(?:src|href)=["'](?:https?:)?//([^/"']+)""", html)
    assert hosts == []
    assert "http://" not in html and "https://" not in html
    assert '"validatorUrl": null' in html


@pytest.mark.parametrize("name", ["swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js"])
def test_the_docs_assets_are_served_locally(name):
    response = Client().get(f"/api/v2/docs/static/{name}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


def test_only_the_docs_assets_are_served():
    assert Client().get("/api/v2/docs/static/..%2F..%2Fsettings.py").status_code == 404
    assert Client().get("/api/v2/docs/static/redoc.standalone.js.map").status_code == 404


def test_an_unknown_api_path_gets_a_json_404():
    response = Client().get("/api/v2/no/such/thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
