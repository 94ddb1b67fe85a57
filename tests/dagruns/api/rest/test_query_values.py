"""Bad query values are refused naming the parameter, on every endpoint: words outside an
enum (`state=bogus`), numbers where dates belong (`updated_at_lte=0.5`), and every numeric
parameter negative, huge and not a number."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dagruns.api.rest.conftest import RUN_ID

pytestmark = pytest.mark.django_db

PATH_IDS = {
    "dag_id": "etl",
    "dag_run_id": RUN_ID,
    "task_id": "extract",
    "xcom_key": "return_value",
    "variable_key": "region",
    "connection_id": "warehouse",
    "pool_name": "etl_pool",
    "map_index": "-1",
    "try_number": "1",
    "task_try_number": "1",
    "event_log_id": "1",
    "import_error_id": "1",
}


# Values for the query parameters an operation requires (GET /backfills needs its dag_id), so a
# refusal is about the parameter under test, not about one left out.
REQUIRED_QUERY = {"dag_id": "etl"}


def _numeric_query_parameters(admin) -> list[tuple[str, str, str, str]]:
    """(method, concrete path, parameter, type) of every numeric query parameter published."""
    document = admin.get("/openapi.json").json()
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            required = {
                parameter["name"]
                for parameter in operation.get("parameters", [])
                if parameter["in"] == "query" and parameter.get("required")
            }
            assert required <= set(REQUIRED_QUERY), (method, path, required)
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                schema = parameter.get("schema", {})
                kinds = {schema.get("type"), schema.get("items", {}).get("type")}
                for option in schema.get("anyOf", []):
                    kinds |= {option.get("type"), option.get("items", {}).get("type")}
                kind = "integer" if "integer" in kinds else "number" if "number" in kinds else None
                if kind is None:
                    continue
                concrete = path.removeprefix("/api/v2")
                for name, value in PATH_IDS.items():
                    concrete = concrete.replace("{" + name + "}", value)
                found.append((method, concrete, parameter["name"], kind))
    return found


def _call(admin, method: str, path: str, params: dict[str, Any]):
    body = {} if method in ("post", "patch", "put") else None
    return admin.call(method, path, body, params={**REQUIRED_QUERY, **params})


def test_every_numeric_query_parameter_refuses_what_is_not_a_number_naming_it(admin, world):
    cases = _numeric_query_parameters(admin)
    assert len(cases) >= 20, cases
    for method, path, name, _kind in cases:
        response = _call(admin, method, path, {name: "lots"})
        assert response.status_code in (400, 422), (method, path, name, response.status_code)
        assert name in response.content.decode(), (method, path, name, response.content)


@pytest.mark.parametrize("value", ["-1", "-99999999999999999999", str(10**30), "1e400"])
def test_every_numeric_query_parameter_survives_negative_and_huge_values(admin, world, value):
    for method, path, name, _kind in _numeric_query_parameters(admin):
        response = _call(admin, method, path, {name: value})
        # Some parameters take any number (map_index -1, a duration bound, a capped limit);
        # others refuse: then with a 4xx that names the parameter. Never a 5xx.
        assert response.status_code < 500, (method, path, name, value, response.content)
        if 400 <= response.status_code < 500 and response.status_code not in (403, 404, 409):
            assert name in response.content.decode(), (method, path, name, value, response.content)


def test_a_run_state_outside_the_enum_is_a_400_naming_the_allowed_states(admin, world):
    response = admin.get("/dags/~/dagRuns", params={"state": ["running", "bogus"]})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "state" in detail and "bogus" in detail and "queued, running, success, failed" in detail


def test_a_run_type_outside_the_enum_is_a_400(admin, world):
    response = admin.get("/dags/~/dagRuns", params={"run_type": "sometimes"})
    assert response.status_code == 400
    assert "run_type" in response.json()["detail"]


def test_a_task_instance_state_outside_the_enum_is_a_400_but_none_is_a_state(admin, world):
    response = admin.get("/dags/~/dagRuns/~/taskInstances", params={"state": "bogus"})
    assert response.status_code == 400
    assert "up_for_retry" in response.json()["detail"]
    response = admin.get("/dags/~/dagRuns/~/taskInstances", params={"state": "none"})
    assert response.status_code == 200
    assert response.json()["total_entries"] == 1  # `load` has no state yet


@pytest.mark.parametrize("value", ["0.5", "1700000000", "-3"])
def test_a_number_is_not_a_date(admin, world, value):
    response = admin.get("/dags/~/dagRuns", params={"updated_at_lte": value})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["query", "updated_at_lte"]
    assert "not a number" in error["msg"]


def test_a_negative_map_index_in_the_path_reaches_the_task_instance_route(admin, world):
    response = admin.get(f"/dags/etl/dagRuns/{RUN_ID}/taskInstances/extract/-1")
    assert response.status_code == 200
    assert response.json()["map_index"] == -1
    huge = admin.get(f"/dags/etl/dagRuns/{RUN_ID}/taskInstances/extract/{10**30}")
    assert huge.status_code == 422
    assert huge.json()["detail"][0]["loc"] == ["path", "map_index"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/pools", {"name": "p", "slots": "5"}, "slots"),
        ("/pools", {"name": "p", "slots": 5, "include_deferred": "true"}, "include_deferred"),
        ("/connections", {"connection_id": "c", "conn_type": "http", "port": "80"}, "port"),
        ("/dags/~/dagRuns/list", {"duration_gte": "5"}, "duration_gte"),
    ],
)
def test_a_json_body_takes_numbers_and_booleans_only_as_json_types(admin, world, path, body, field):
    response = admin.post(path, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
