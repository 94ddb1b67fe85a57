"""The grid reads its task instances' dates its own (cheaper) way on SQLite: every date is the
stored moment, aware, equal to what the ORM reads, on whichever database the tests run (SQLite
by default, PostgreSQL with ORCH_DATABASE_URL), still in one query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dagruns.models import TaskInstance
from dagruns.ui.grid import ti_cells
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db


def test_the_cells_dates_are_the_stored_moments_as_the_orm_reads_them():
    dag = store_dag("dates", {"whole": [], "fraction": [], "never": []})
    run = add_run(dag)
    whole = datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC)
    TaskInstance.objects.filter(dag_run=run, task_id="whole").update(
        start_date=whole, end_date=whole + timedelta(hours=2)
    )
    TaskInstance.objects.filter(dag_run=run, task_id="fraction").update(
        start_date=whole + timedelta(microseconds=500_001), end_date=None
    )
    TaskInstance.objects.filter(dag_run=run, task_id="never").update(start_date=None, end_date=None)
    with CaptureQueriesContext(connection) as queries:
        cells = ti_cells([run.pk])
    assert len(queries.captured_queries) == 1
    expected = {
        "whole": (whole, whole + timedelta(hours=2)),
        "fraction": (whole + timedelta(microseconds=500_001), None),
        "never": (None, None),
    }
    assert {
        task: (cells[(run.pk, task)].start_date, cells[(run.pk, task)].end_date)
        for task in expected
    } == expected
    for ti in TaskInstance.objects.filter(dag_run=run):
        cell = cells[(run.pk, ti.task_id)]
        assert (cell.start_date, cell.end_date) == (ti.start_date, ti.end_date)
        for moment in (cell.start_date, cell.end_date):
            assert moment is None or moment.utcoffset() == timedelta(0)
