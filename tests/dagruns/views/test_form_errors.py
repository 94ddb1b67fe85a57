"""Bad input in the dashboard's forms is an error that names the field, never a 500: an
impossible logical date, a port out of range in the admin, NUL characters, an unknown state."""

from __future__ import annotations

import pytest

from dagruns.models import Connection, DagRun
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db


@pytest.fixture
def etl():
    return store_dag("etl", {"extract": ["load"], "load": []})


@pytest.mark.parametrize("when", ["0000-01-01T00:00", "2024-13-01T00:00", "2024-01-01T25:00"])
def test_an_impossible_logical_date_is_an_error_on_its_field(user, etl, when):
    response = user.post("/dags/etl/trigger", {"conf": "{}", "logical_date": when})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not a valid date and time" in html and "Please correct the errors below." in html
    assert DagRun.objects.count() == 0


def test_a_port_out_of_range_is_shown_on_the_admin_field(operator):
    response = operator.post(
        "/admin/dagruns/connection/add/",
        {"conn_id": "warehouse", "conn_type": "postgres", "port": "99999"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {"port": ["port must be between 0 and 65535"]}
    assert "port must be between 0 and 65535" in response.content.decode()
    assert not Connection.objects.exists()


def test_a_nul_in_an_admin_field_or_search_is_refused_naming_the_field(operator):
    response = operator.post(
        "/admin/dagruns/connection/add/",
        {"conn_id": "warehouse", "conn_type": "postgres", "host": "db\x00"},
    )
    assert response.status_code == 200  # the form again, with the error on its field
    assert response.context["adminform"].form.errors["host"] == [
        "host: NUL characters (\\u0000) are not allowed"
    ]
    search = operator.get("/admin/dagruns/connection/", {"q": "\x00"})
    assert search.status_code == 400
    assert search.content.decode() == "q: NUL characters (\\u0000) are not allowed"
    assert not Connection.objects.exists()


@pytest.mark.parametrize("field", ["note", "run_id", "logical_date", "conf"])
def test_a_nul_in_a_trigger_form_field_is_refused_naming_the_field(user, etl, field):
    data = {"conf": "{}", "confirm": "1", "conf_json": "{}", field: "a\x00b"}
    response = user.post("/dags/etl/trigger", data)
    assert response.status_code == 400
    assert response.content.decode() == (f"{field}: NUL characters (\\u0000) are not allowed")
    assert DagRun.objects.count() == 0


def test_a_nul_in_a_query_is_refused(viewer, etl):
    response = viewer.get("/dags/etl/runs", {"state": "x\x00"})
    assert response.status_code == 400
    assert response.content.decode() == "state: NUL characters (\\u0000) are not allowed"


def test_a_nul_escaped_in_the_conf_json_is_an_error_on_the_conf(user, etl):
    response = user.post("/dags/etl/trigger", {"conf": '{"k": "a\\u0000b"}'})
    assert response.status_code == 200
    assert "conf: NUL characters (\\u0000) are not allowed" in response.content.decode()
    confirmed = user.post("/dags/etl/trigger", {"confirm": "1", "conf_json": '{"\\u0000": 1}'})
    assert "NUL characters" in confirmed.content.decode()
    assert DagRun.objects.count() == 0


def test_an_unknown_run_state_is_a_400_naming_it(user, etl):
    run = add_run(etl, run_id="r1")
    response = user.get("/dags/etl/run-state", {"run_id": run.run_id, "state": "bogus"})
    assert response.status_code == 400
    assert "bogus" in response.content.decode()
