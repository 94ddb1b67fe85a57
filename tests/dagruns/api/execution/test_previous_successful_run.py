"""The claim answer carries the DAG's previous successful run (the context's prev_*_success):
the latest earlier run by logical date whose state is success."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dagruns.models import DagRun
from tests.builders import LOGICAL_DATE, make_run, queue, ti_of
from tests.dagruns.api.conftest import Runner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]

DAY = timedelta(days=1)


def earlier_run(days_before: int, state: str) -> DagRun:
    when = LOGICAL_DATE - days_before * DAY
    run = make_run(run_id=f"scheduled__{when.isoformat()}", logical_date=when)
    DagRun.objects.filter(pk=run.pk).update(
        state=state,
        data_interval_start=when - DAY,
        data_interval_end=when,
        start_date=when + timedelta(minutes=1),
        end_date=when + timedelta(minutes=2),
    )
    return run


def claim(run: DagRun) -> dict:
    response = Runner(queue(ti_of(run, "extract"))).run()
    assert response.status_code == 200, response.content
    return response.json()


def test_the_latest_earlier_successful_run_is_sent_with_the_claim(dag_run):
    earlier_run(3, "success")
    earlier_run(2, "success")
    earlier_run(1, "failed")  # later, but not a success

    previous = claim(dag_run)["previous_successful_dag_run"]

    two_days_before = LOGICAL_DATE - 2 * DAY
    assert previous == {
        "data_interval_start": (two_days_before - DAY).isoformat().replace("+00:00", "Z"),
        "data_interval_end": two_days_before.isoformat().replace("+00:00", "Z"),
        "start_date": (two_days_before + timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
        "end_date": (two_days_before + timedelta(minutes=2)).isoformat().replace("+00:00", "Z"),
    }


def test_a_later_successful_run_does_not_count(dag_run):
    later = LOGICAL_DATE + DAY
    run = make_run(run_id="later", logical_date=later)
    DagRun.objects.filter(pk=run.pk).update(state="success")

    assert claim(dag_run)["previous_successful_dag_run"] is None


def test_a_run_without_logical_date_has_no_previous_run(db, isolated_orch_dirs):
    earlier_run(1, "success")
    manual = make_run(run_id="manual__x", logical_date=None)

    assert claim(manual)["previous_successful_dag_run"] is None
