"""A success report naming the tasks a SkipMixin operator skipped (DownstreamTasksSkipped):
the server skips those still waiting, audits it, and refuses tasks not downstream."""

from __future__ import annotations

import pytest

from dagruns.models import AuditEvent
from tests.builders import make_run, queue, set_state, ti_of
from tests.dagruns.api.conftest import Runner
from tests.mapped_rows import expand

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]

EDGES = {
    "up": ["gate"],
    "gate": ["left", "right"],
    "left": ["after_left"],
    "right": [],
    "after_left": [],
    "elsewhere": [],
}


def states(run) -> dict[str, str | None]:
    return dict(run.task_instances.values_list("task_id", "state"))


def finish_gate(run, **body):
    runner = Runner(queue(ti_of(run, "gate")))
    runner.run()
    return runner.finish("success", **body)


def test_the_named_downstream_tasks_are_skipped_and_the_task_succeeds():
    run = make_run(dag_id="skippy", edges=EDGES)
    response = finish_gate(run, downstream_tasks_skipped=["right", ["after_left", -1]])
    assert response.status_code == 200
    assert states(run) == {
        "up": None,
        "gate": "success",
        "left": None,
        "right": "skipped",
        "after_left": "skipped",  # downstream, not direct: as Airflow's skip() allows
        "elsewhere": None,
    }
    event = AuditEvent.objects.get(event="success", task_id="gate")
    assert event.extra["skipped"] == ["after_left", "right"]


def test_a_task_that_already_started_keeps_running():
    run = make_run(dag_id="skippy", edges=EDGES)
    set_state(ti_of(run, "right"), "running")
    assert finish_gate(run, downstream_tasks_skipped=["right"]).status_code == 200
    assert states(run)["right"] == "running"


@pytest.mark.parametrize("bad", ["up", "elsewhere", "gate", "no_such_task"])
def test_a_task_not_downstream_is_refused_and_nothing_changes(bad):
    run = make_run(dag_id="skippy", edges=EDGES)
    response = finish_gate(run, downstream_tasks_skipped=["right", bad])
    assert response.status_code == 422
    assert response.json()["detail"]["reason"] == "skip_refused"
    assert f"['{bad}'] is not a task downstream of 'gate'" in response.json()["detail"]["message"]
    assert states(run)["gate"] == "running"
    assert states(run)["right"] is None


def test_a_map_index_pair_skips_only_that_instance():
    run = make_run(dag_id="skippy", edges=EDGES)
    expand(run, "right", [None, None, None])
    assert finish_gate(run, downstream_tasks_skipped=[["right", 1]]).status_code == 200
    rows = dict(run.task_instances.filter(task_id="right").values_list("map_index", "state"))
    assert rows == {0: None, 1: "skipped", 2: None}
    event = AuditEvent.objects.get(event="success", task_id="gate")
    assert event.extra["skipped_map_indexes"] == [["right", 1]]


def test_a_failed_try_skips_nothing():
    run = make_run(dag_id="skippy", edges=EDGES)
    runner = Runner(queue(ti_of(run, "gate")))
    runner.run()
    runner.finish("failed", downstream_tasks_skipped=["right"])
    assert states(run)["right"] is None


def test_a_malformed_entry_is_a_422():
    run = make_run(dag_id="skippy", edges=EDGES)
    response = finish_gate(run, downstream_tasks_skipped=[["right", "x"]])
    assert response.status_code == 422
    assert states(run)["gate"] == "running"
