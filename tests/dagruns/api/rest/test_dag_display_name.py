"""Every REST answer keeps `dag_id` and `dag_display_name` apart, as Airflow's: the display
name is the DAG file's `dag_display_name=` wherever a row of that DAG is shown."""

from __future__ import annotations

import pytest

from dagruns.models import AuditEvent, DagModel, DagVersion
from tests.dagruns.api.rest.conftest import RUN_ID

pytestmark = pytest.mark.django_db

NAME = "Nightly ETL"


@pytest.fixture
def named(world):
    DagModel.objects.filter(dag_id="etl").update(dag_display_name=NAME)
    DagVersion.objects.filter(dag_id="etl").update(source_code="print('etl')\n")
    return world


def test_runs_task_instances_xcoms_and_versions_carry_the_dags_display_name(admin, named):
    runs = admin.get("/dags/etl/dagRuns").json()["dag_runs"]
    run = admin.get(f"/dags/etl/dagRuns/{RUN_ID}").json()
    for body in (*runs, run):
        assert (body["dag_id"], body["dag_display_name"]) == ("etl", NAME)
        assert body["dag_versions"][0]["dag_display_name"] == NAME
    tis = admin.get(f"/dags/etl/dagRuns/{RUN_ID}/taskInstances").json()["task_instances"]
    one = admin.get(f"/dags/etl/dagRuns/{RUN_ID}/taskInstances/extract").json()
    tries = admin.get(f"/dags/etl/dagRuns/{RUN_ID}/taskInstances/extract/tries").json()
    for body in (*tis, one, *tries["task_instances"]):
        assert (body["dag_id"], body["dag_display_name"]) == ("etl", NAME)
        assert body["dag_version"]["dag_display_name"] == NAME
    xcom_path = f"/dags/etl/dagRuns/{RUN_ID}/taskInstances/extract/xcomEntries"
    for body in (
        *admin.get(xcom_path).json()["xcom_entries"],
        admin.get(xcom_path + "/return_value").json(),
    ):
        assert (body["dag_id"], body["dag_display_name"]) == ("etl", NAME)


def test_dag_details_source_tags_and_event_logs_carry_the_dags_display_name(admin, named):
    DagModel.objects.get(dag_id="etl").tags.create(name="finance")
    details = admin.get("/dags/etl/details").json()
    assert details["latest_dag_version"]["dag_display_name"] == NAME
    assert details["tags"] == [{"name": "finance", "dag_id": "etl", "dag_display_name": NAME}]
    assert admin.get("/dagSources/etl").json()["dag_display_name"] == NAME
    event = named["event"]
    listed = admin.get("/eventLogs", params={"dag_id": "etl"}).json()["event_logs"]
    assert [e["dag_display_name"] for e in listed] == [NAME]
    assert admin.get(f"/eventLogs/{event.pk}").json()["dag_display_name"] == NAME
    # An event of no DAG has no display name, as in Airflow.
    other = AuditEvent.objects.create(event="login", owner="ada")
    assert admin.get(f"/eventLogs/{other.pk}").json()["dag_display_name"] is None
