"""`/api/v2/backfills`: Airflow's JSON shapes and status codes for create, dry run, list, get,
pause, unpause and cancel; refusals name the problem."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dagruns.models import Backfill, DagRun
from dagruns.sdk import DAG, EmptyOperator
from tests.builders import START, store

pytestmark = pytest.mark.django_db
BODY = {"dag_id": "etl", "from_date": "2024-01-01T00:00:00Z", "to_date": "2024-01-03T00:00:00Z"}


@pytest.fixture
def etl(db):
    with DAG("etl", schedule="@daily", start_date=START, catchup=False) as dag:
        EmptyOperator(task_id="a")
    return store(dag)


def test_create_answers_airflows_backfill_response(user, etl):
    answer = user.post("/backfills", {**BODY, "max_active_runs": 2, "dag_run_conf": {"x": 1}})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    backfill = Backfill.objects.get()
    assert set(body) == {
        "id", "dag_id", "from_date", "to_date", "dag_run_conf", "is_paused",
        "reprocess_behavior", "max_active_runs", "created_at", "completed_at", "updated_at",
        "dag_display_name",
    }  # fmt: skip
    assert (body["id"], body["dag_id"], body["dag_display_name"]) == (backfill.pk, "etl", "etl")
    assert (body["from_date"], body["to_date"]) == ("2024-01-01T00:00:00Z", "2024-01-03T00:00:00Z")
    assert body["dag_run_conf"] == {"x": 1} and body["max_active_runs"] == 2
    assert (body["is_paused"], body["reprocess_behavior"], body["completed_at"]) == (
        False,
        "none",
        None,
    )


def test_dry_run_lists_the_dates_that_would_get_a_run(user, etl):
    DagRun.objects.create(
        dag=etl, run_id="old", run_type="scheduled", state="failed",
        logical_date=datetime(2024, 1, 2, tzinfo=UTC), run_after=datetime(2024, 1, 2, tzinfo=UTC),
        dag_version=etl.latest_version(),
    )  # fmt: skip
    plain = user.post("/backfills/dry_run", BODY).json()
    assert plain == {
        "backfills": [
            {"logical_date": "2024-01-01T00:00:00Z"},
            {"logical_date": "2024-01-03T00:00:00Z"},
        ],
        "total_entries": 2,
    }
    failed = user.post("/backfills/dry_run", {**BODY, "reprocess_behavior": "failed"}).json()
    assert failed["total_entries"] == 3
    assert not Backfill.objects.exists()


def test_refusals_use_airflows_status_codes(user, etl):
    assert user.post("/backfills", {**BODY, "dag_id": "nope"}).status_code == 404
    late = user.post("/backfills", {**BODY, "from_date": "2024-02-01T00:00:00Z"})
    assert late.status_code == 422 and "must not be after to_date" in str(late.json())
    unknown = user.post("/backfills", {**BODY, "run_on_latest_versions": True})
    assert unknown.status_code == 422 and "run_on_latest_versions" in str(unknown.json())
    naive = user.post("/backfills", {**BODY, "from_date": "2024-01-01T00:00:00"})
    assert naive.status_code == 422
    assert user.post("/backfills", {**BODY, "max_active_runs": 0}).status_code == 422
    assert user.post("/backfills", BODY).status_code == 200
    again = user.post("/backfills", BODY)
    assert again.status_code == 409
    assert again.json() == {"detail": "There is already a running backfill for dag etl"}


def test_a_dag_without_a_schedule_is_a_422(user):
    with DAG("manual", schedule=None, start_date=START) as dag:
        EmptyOperator(task_id="a")
    store(dag)
    answer = user.post("/backfills/dry_run", {**BODY, "dag_id": "manual"})
    assert answer.status_code == 422 and "non-periodic schedule" in str(answer.json())


def test_list_get_pause_unpause_cancel(user, viewer, etl):
    backfill_id = user.post("/backfills", BODY).json()["id"]
    listed = viewer.get("/backfills", params={"dag_id": "etl"}).json()
    assert listed["total_entries"] == 1 and listed["backfills"][0]["id"] == backfill_id
    assert viewer.get("/backfills", params={"dag_id": "other"}).json()["total_entries"] == 0
    assert viewer.get("/backfills").status_code == 422  # dag_id is required, as in Airflow
    assert viewer.get(f"/backfills/{backfill_id}").json()["id"] == backfill_id
    assert viewer.get("/backfills/999").json() == {"detail": "Backfill not found"}
    assert user.call("put", f"/backfills/{backfill_id}/pause").json()["is_paused"] is True
    assert user.call("put", f"/backfills/{backfill_id}/unpause").json()["is_paused"] is False
    cancelled = user.call("put", f"/backfills/{backfill_id}/cancel").json()
    assert cancelled["is_paused"] is True and cancelled["completed_at"] is not None
    again = user.call("put", f"/backfills/{backfill_id}/pause")
    assert again.status_code == 409 and again.json() == {"detail": "Backfill is already completed."}
    missing = user.call("put", "/backfills/999/cancel")
    assert missing.status_code == 404


def test_a_viewer_may_read_but_not_create(viewer, etl):
    assert viewer.post("/backfills", BODY).status_code == 403


def test_a_dry_run_over_ten_thousand_dates_answers_with_every_date(user):
    with DAG("hourly", schedule="@hourly", start_date=START, catchup=False) as dag:
        EmptyOperator(task_id="a")
    store(dag)
    body = {
        "dag_id": "hourly",
        "from_date": "2022-01-01T00:00:00Z",
        "to_date": "2023-03-01T00:00:00Z",
    }
    answer = user.post("/backfills/dry_run", body).json()
    assert answer["total_entries"] == len(answer["backfills"]) == 24 * 424 + 1
    assert answer["backfills"][0] == {"logical_date": "2022-01-01T00:00:00Z"}
