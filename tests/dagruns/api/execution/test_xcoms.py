"""XComs through the Execution API: any task of the own run may be read, only the own task
written."""

from __future__ import annotations

import pytest

from dagruns.models import XCom
from tests.builders import make_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]


def test_a_task_reads_back_what_it_pushed(running):
    response = running.set_xcom("return_value", {"rows": [1, 2, 3], "ok": True})
    assert response.status_code == 201
    response = running.get_xcom("return_value")
    assert response.status_code == 200
    assert response.json() == {"key": "return_value", "value": {"rows": [1, 2, 3], "ok": True}}


def test_pushing_again_replaces_the_value(running):
    running.set_xcom("count", 1)
    running.set_xcom("count", 2)
    assert running.get_xcom("count").json()["value"] == 2
    assert XCom.objects.filter(key="count").count() == 1


def test_null_is_a_value_like_any_other(running):
    assert running.set_xcom("nothing", None).status_code == 201
    assert running.get_xcom("nothing").json() == {"key": "nothing", "value": None}


def test_a_task_reads_xcoms_of_other_tasks_in_its_run(running, dag_run):
    XCom.objects.create(
        dag_run=dag_run, dag_id="etl", run_id=dag_run.run_id, task_id="load", key="k", value=[1]
    )
    assert running.get_xcom("k", task_id="load").json()["value"] == [1]


def test_a_missing_xcom_is_404(running):
    response = running.get_xcom("nope")
    assert response.status_code == 404
    assert response.json()["detail"]["reason"] == "not_found"


def test_xcoms_of_another_run_or_dag_are_403(running):
    other = make_run(run_id="manual__other", logical_date=None)
    XCom.objects.create(
        dag_run=other, dag_id="etl", run_id=other.run_id, task_id="extract", key="k", value=1
    )
    assert running.get_xcom("k", run_id=other.run_id).status_code == 403
    assert running.get_xcom("k", dag_id="another_dag").status_code == 403
    assert running.set_xcom("k", 2, run_id=other.run_id).status_code == 403
    assert XCom.objects.get(dag_run=other).value == 1


def test_a_task_may_write_only_its_own_xcoms(running):
    assert running.set_xcom("k", 1, task_id="load").status_code == 403
    assert running.set_xcom("k", 1, map_index=0).status_code == 403
    assert not XCom.objects.exists()


def test_a_value_over_the_size_limit_is_413(running, orch_settings):
    orch_settings.xcom_max_size = 10
    assert running.set_xcom("small", "12345678").status_code == 201  # "12345678" is 10 bytes
    response = running.set_xcom("big", "123456789")
    assert response.status_code == 413
    assert "ORCH_XCOM_MAX_SIZE" in response.json()["detail"]
    assert not XCom.objects.filter(key="big").exists()


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"{not json", "not JSON"),
        (b'{"value": NaN}', "NaN"),
        (b'{"value": Infinity}', "Infinity"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", '{"value": <json>}'),
        (b'{"other": 1}', '{"value": <json>}'),
    ],
)
def test_a_body_that_is_not_a_json_value_is_422_with_a_clear_message(running, raw, says):
    response = running.set_xcom("k", raw=raw)
    assert response.status_code == 422
    assert says in response.json()["detail"]
    assert not XCom.objects.exists()


def test_xcom_keys_may_contain_slashes(running):
    assert running.set_xcom("a/b", 1).status_code == 201
    assert running.get_xcom("a/b").json() == {"key": "a/b", "value": 1}


def test_xcoms_are_refused_once_the_try_finished(running):
    running.set_xcom("k", 1)
    running.finish("success")
    assert running.get_xcom("k").status_code == 403
    assert running.set_xcom("k", 2).status_code == 403
    assert XCom.objects.get(key="k").value == 1
