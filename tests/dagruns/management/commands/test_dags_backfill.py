"""`manage.py dags backfill`: the dry run's table, the created backfill, and refusals that
name the flag or the problem (no traceback)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dagruns.models import Backfill, DagRun
from dagruns.sdk import DAG, EmptyOperator
from tests.builders import START, store

pytestmark = pytest.mark.django_db


def dags(*argv: str) -> str:
    out = StringIO()
    call_command("dags", *argv, stdout=out)
    return out.getvalue()


@pytest.fixture
def etl():
    with DAG("etl", schedule="@daily", start_date=START, catchup=False) as dag:
        EmptyOperator(task_id="a", depends_on_past=False)
    return store(dag)


def test_dry_run_prints_each_date_and_what_would_happen(etl):
    DagRun.objects.create(
        dag=etl, run_id="old", run_type="scheduled", state="success",
        logical_date=datetime(2024, 1, 2, tzinfo=UTC), run_after=datetime(2024, 1, 2, tzinfo=UTC),
        dag_version=etl.latest_version(),
    )  # fmt: skip
    rows = json.loads(
        dags("backfill", "etl", "-s", "2024-01-01", "-e", "2024-01-03", "--dry-run", "-o", "json")
    )
    assert [(r["logical_date"], r["outcome"]) for r in rows] == [
        ("2024-01-01T00:00:00+00:00", "create"),
        ("2024-01-02T00:00:00+00:00", "already exists"),
        ("2024-01-03T00:00:00+00:00", "create"),
    ]
    text = dags(
        "backfill", "etl", "--start-date", "2024-01-01", "--end-date", "2024-01-03",
        "--dry-run", "--reprocess-behavior", "completed", "--run-backwards",
    )  # fmt: skip
    assert text.index("2024-01-03") < text.index("2024-01-01") and "clear" in text
    assert not Backfill.objects.exists()


def test_it_creates_the_backfill_with_every_flag(etl):
    out = json.loads(
        dags(
            "backfill",
            "etl",
            "-s",
            "2024-01-01",
            "-e",
            "2024-01-04",
            "--reprocess-behavior",
            "failed",
            "--max-active-runs",
            "2",
            "--dag-run-conf",
            '{"x": 1}',
            "-o",
            "json",
        )  # fmt: skip
    )
    backfill = Backfill.objects.get()
    assert out == [
        {
            "id": backfill.pk, "dag_id": "etl", "from_date": "2024-01-01T00:00:00+00:00",
            "to_date": "2024-01-04T00:00:00+00:00", "reprocess_behavior": "failed",
            "max_active_runs": 2, "runs": 4,
        }
    ]  # fmt: skip
    assert backfill.dag_run_conf == {"x": 1} and backfill.triggering_user_name.startswith("cli:")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-s", "yesterday", "-e", "2024-01-02"], "--start-date 'yesterday' is not an ISO-8601"),
        (["-s", "2024-01-05", "-e", "2024-01-02"], "must not be after to_date"),
        (
            ["-s", "2024-01-01", "-e", "2024-01-02", "--dag-run-conf", "[1]"],
            "--dag-run-conf must be",
        ),
        (["-s", "2024-01-01", "-e", "2024-01-02", "--max-active-runs", "0"], "max_active_runs"),
    ],
)
def test_bad_flags_are_refused_naming_them(etl, argv, message):
    with pytest.raises(CommandError, match=message):
        dags("backfill", "etl", *argv)


def test_run_backwards_with_depends_on_past_is_refused_like_airflow():
    with DAG("dep", schedule="@daily", start_date=START, catchup=False) as dag:
        EmptyOperator(task_id="a", depends_on_past=True)
    store(dag)
    with pytest.raises(CommandError, match="cannot be run in reverse"):
        dags(
            "backfill", "dep", "-s", "2024-01-01", "-e", "2024-01-02", "--run-backwards",
            "--reprocess-behavior", "completed",
        )  # fmt: skip


def test_an_unknown_dag_and_a_second_backfill_are_refused(etl):
    with pytest.raises(CommandError, match="DAG 'nope' not found"):
        dags("backfill", "nope", "-s", "2024-01-01", "-e", "2024-01-02")
    dags("backfill", "etl", "-s", "2024-01-01", "-e", "2024-01-02")
    with pytest.raises(CommandError, match="Another backfill is running for DAG etl"):
        dags("backfill", "etl", "-s", "2024-01-03", "-e", "2024-01-04")
