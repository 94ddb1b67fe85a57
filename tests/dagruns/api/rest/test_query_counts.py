"""List endpoints cost the same number of queries for a page of 100 as for a page of 5."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dagruns.actions.xcoms import do_set_xcom
from dagruns.models import AuditEvent, Connection, DagModel, DagRun, DagTag, Pool, Variable
from tests.builders import make_run

pytestmark = pytest.mark.django_db

# Authentication (the user and their role groups) plus a COUNT and the page itself, plus at
# most two for what a list looks up besides (the DAG it belongs to, a prefetch).
MAX_QUERIES = 7


@pytest.fixture
def many(db):
    wide = {f"t{i:03}": [] for i in range(60)}
    run_a = make_run(dag_id="wide", edges=wide, run_id="a")
    run_b = make_run(dag_id="wide", edges=wide, run_id="b", logical_date=None)
    for i in range(110):
        dag = DagModel.objects.create(dag_id=f"d{i:03}", fileloc=f"/dags/{i}.py")
        DagTag.objects.create(dag=dag, name=f"tag{i % 7}")
        Variable.objects.create(key=f"v{i:03}")
        Connection.objects.create(conn_id=f"c{i:03}", conn_type="http")
        Pool.objects.create(name=f"p{i:03}", slots=1)
        AuditEvent.objects.create(event="x", dag_id="wide")
    for i in range(60):
        do_set_xcom(run_a, f"t{i:03}", "k", i)
        do_set_xcom(run_b, f"t{i:03}", "k", i)
    for i in range(100):
        DagRun.objects.create(
            dag_id="wide",
            run_id=f"empty{i:03}",
            run_type="manual",
            state="queued",
            run_after=run_a.run_after,
            dag_version=run_a.dag_version,
        )


LISTS = [
    "/dags",
    "/dagTags",
    "/dags/wide/dagRuns",
    "/dags/~/dagRuns",
    "/dags/~/dagRuns/~/taskInstances",
    "/dags/wide/dagRuns/a/taskInstances",
    "/dags/~/dagRuns/~/taskInstances/~/xcomEntries",
    "/variables",
    "/connections",
    "/pools",
    "/eventLogs",
    "/importErrors",
]


def queries_for(api, path: str, limit: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(path, params={"limit": limit})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("path", LISTS)
def test_a_list_costs_a_fixed_number_of_queries_whatever_the_page_size(
    path, admin, many, django_assert_max_num_queries
):
    small = queries_for(admin, path, 5)
    large = queries_for(admin, path, 100)
    assert small == large
    with django_assert_max_num_queries(MAX_QUERIES):
        admin.get(path, params={"limit": 100})


def test_the_batch_lists_cost_a_fixed_number_of_queries(admin, many, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin.post("/dags/~/dagRuns/~/taskInstances/list", {"page_limit": 100})
    assert len(response.json()["task_instances"]) == 100
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin.post("/dags/~/dagRuns/list", {"page_limit": 100})
    assert len(response.json()["dag_runs"]) == 100
