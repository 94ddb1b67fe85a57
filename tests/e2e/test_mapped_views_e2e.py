"""Mapped instances made by the real engine (processor → scheduler → executor → runner →
Execution API), then read back where people look: the REST API's listMapped and per-index
routes, the instance's page with the log its runner wrote, and `tasks state --map-index`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from dagruns.api.rest.auth import issue_token
from tests.personas import persona

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_real_mapped_run_through_the_api_the_page_and_the_cli(engine):
    engine.add(
        "fan.py",
        """
        with DAG("fan", schedule=None, start_date=START) as dag:
            @task(map_index_template="{{ task.op_kwargs['n'] }}-item")
            def work(n):
                print("working on", n)
                if n == 2:
                    raise ValueError("two is bad")
                return n * 10

            work.expand(n=[1, 2, 3])
        """,
    )
    engine.parse()
    run = engine.run_dag("fan")
    base = f"/api/v2/dags/fan/dagRuns/{run.run_id}/taskInstances/work"
    api = Client(headers={"Authorization": f"Bearer {issue_token(persona('viewer'))}"})

    listed = api.get(f"{base}/listMapped").json()
    assert [
        (t["map_index"], t["state"], t["rendered_map_index"]) for t in listed["task_instances"]
    ] == [
        (0, "success", "1-item"),
        (1, "failed", "2-item"),
        (2, "success", "3-item"),
    ]
    assert api.get(f"{base}/1").json()["state"] == "failed"
    assert [t["state"] for t in api.get(f"{base}/1/tries").json()["task_instances"]] == ["failed"]
    assert "map index 0..2" in api.get(f"{base}/3").json()["detail"]

    page = Client()
    page.force_login(persona("op"))
    html = page.get(f"/dags/fan/runs/{run.run_id}/tasks/work/mapped/1").content.decode()
    assert "two is bad" in html and "2-item" in html

    out = StringIO()
    call_command("tasks", "state", "fan", "work", run.run_id, "--map-index", "1", stdout=out)
    assert out.getvalue() == "failed\n"
