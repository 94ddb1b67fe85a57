"""TriggerDagRunOperator through the real processor, scheduler, runner processes and Execution
API: the parent triggers the child with conf and waits for it; a failed child fails the
parent; a run id that exists fails the parent, is skipped with skip_when_already_exists, and
is cleared and run again with reset_dag_run. The child run records the triggering task."""

from __future__ import annotations

import pytest

from dagruns.models import DagRun, XCom

pytestmark = pytest.mark.django_db(transaction=True)


def child_dag(engine, ledger, fail: bool = False) -> None:
    command = "exit 1" if fail else f"echo '{{{{ dag_run.conf.get(\"who\") }}}}' >> {ledger}"
    engine.add(
        "child.py",
        f"""
        with DAG("child", schedule=None, start_date=START) as dag:
            BashOperator(task_id="work", bash_command={command!r}, retries=0)
        """,
    )


def parent_dag(engine, **arguments) -> None:
    args = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    engine.add(
        "parent.py",
        f"""
        from dagruns.sdk import TriggerDagRunOperator
        with DAG("parent", schedule=None, start_date=START) as dag:
            TriggerDagRunOperator(task_id="trigger", trigger_dag_id="child", retries=0, {args})
        """,
    )


def test_the_parent_triggers_the_child_with_conf_and_waits_for_its_success(engine, tmp_path):
    ledger = tmp_path / "ledger"
    child_dag(engine, ledger)
    parent_dag(engine, conf={"who": "{{ dag_run.run_id }}"}, wait_for_completion=True,
               poke_interval=0.2)  # fmt: skip
    engine.parse()
    parent = engine.run_dag("parent")
    assert parent.state == "success" and engine.states(parent) == {"trigger": "success"}
    child = DagRun.objects.get(dag_id="child")
    # It waited: the child had finished (successfully) when the parent's task succeeded.
    assert (child.state, child.triggered_by, child.conf) == (
        "success",
        "operator",
        {"who": parent.run_id},
    )
    assert ledger.read_text().strip() == parent.run_id
    assert child.triggered_by_ti == engine.ti(parent, "trigger")
    run_id = XCom.objects.get(dag_run=parent, task_id="trigger", key="trigger_run_id").value
    assert run_id == child.run_id and child.run_id.startswith("manual__")


def test_a_failed_child_fails_the_waiting_parent(engine, tmp_path):
    child_dag(engine, tmp_path / "ledger", fail=True)
    parent_dag(engine, wait_for_completion=True, poke_interval=0.2)
    engine.parse()
    parent = engine.run_dag("parent")
    assert parent.state == "failed" and engine.states(parent) == {"trigger": "failed"}
    assert DagRun.objects.get(dag_id="child").state == "failed"


def test_an_existing_run_fails_is_skipped_or_is_reset(engine, tmp_path):
    ledger = tmp_path / "ledger"
    child_dag(engine, ledger)
    parent_dag(engine, trigger_run_id="fixed", conf={"who": "x"}, wait_for_completion=True,
               poke_interval=0.2)  # fmt: skip
    engine.parse()
    assert engine.run_dag("parent").state == "success"
    assert engine.run_dag("parent").state == "failed"  # DagRunAlreadyExists

    parent_dag(engine, trigger_run_id="fixed", skip_when_already_exists=True)
    engine.parse()
    skipped = engine.run_dag("parent")
    assert engine.states(skipped) == {"trigger": "skipped"}

    parent_dag(engine, trigger_run_id="fixed", reset_dag_run=True, wait_for_completion=True,
               poke_interval=0.2, conf={"who": "x"})  # fmt: skip
    engine.parse()
    reset = engine.run_dag("parent")
    assert reset.state == "success"
    child = DagRun.objects.get(dag_id="child", run_id="fixed")
    assert (child.state, child.clear_number) == ("success", 1)
    assert ledger.read_text().split() == ["x", "x"]  # the child's task ran a second time
    assert child.triggered_by_ti == engine.ti(reset, "trigger")
