"""Clear, mark, run state and delete: one selection for every surface, dry runs that return
exactly what the action then changes, state and note in one transaction, and the events and
audit rows each action writes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.notes import NoteInvalid
from dagruns.actions.task_instances import (
    InvalidSelection,
    UnknownTasks,
    do_clear,
    do_clear_run,
    do_delete_run,
    do_mark_state,
    do_set_run_state,
    select_task_instances,
)
from dagruns.models import AuditEvent, DagRun, TaskInstance
from dagruns.models.states import DagRunState, TaskInstanceState
from tests.builders import LOGICAL_DATE, make_run, set_state, ti_of

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="tester")
TIS = TaskInstanceState
CHAIN = {"a": ["b"], "b": ["c"], "c": []}


def ids(tis: list[TaskInstance]) -> list[str]:
    return sorted(t.task_id for t in tis)


def states() -> dict[tuple[str, str], str | None]:
    return {(t.run_id, t.task_id): t.state for t in TaskInstance.objects.all()}


# --- selection ----------------------------------------------------------------------------------


def test_relatives_follow_the_graph_all_the_way_or_one_edge():
    run = make_run(edges=CHAIN)
    every = select_task_instances(
        "etl", run_ids=[run.run_id], task_ids=["a"], include_downstream=True
    )
    direct = select_task_instances(
        "etl",
        run_ids=[run.run_id],
        task_ids=["a"],
        include_downstream=True,
        direct_relatives_only=True,
    )
    assert ids(every) == ["a", "b", "c"]
    assert ids(direct) == ["a", "b"]


def test_include_past_and_future_take_the_same_task_in_earlier_and_later_runs():
    runs = [
        make_run(
            edges=CHAIN, run_id=f"scheduled__{i}", logical_date=LOGICAL_DATE + timedelta(days=i)
        )
        for i in range(3)
    ]
    past = select_task_instances("etl", run_ids=[runs[1].run_id], task_ids=["b"], include_past=True)
    future = select_task_instances(
        "etl", run_ids=[runs[1].run_id], task_ids=["b"], include_future=True
    )
    assert sorted(t.run_id for t in past) == ["scheduled__0", "scheduled__1"]
    assert sorted(t.run_id for t in future) == ["scheduled__1", "scheduled__2"]


def test_include_past_needs_a_run_with_a_logical_date():
    run = make_run(edges=CHAIN, logical_date=None)
    with pytest.raises(InvalidSelection, match="no logical_date"):
        select_task_instances("etl", run_ids=[run.run_id], task_ids=["a"], include_past=True)


def test_an_unknown_task_is_refused_by_name():
    run = make_run(edges=CHAIN)
    with pytest.raises(UnknownTasks, match="DAG 'etl' has no task 'nope'"):
        select_task_instances("etl", run_ids=[run.run_id], task_ids=["a", "nope"])


def test_only_failed_and_only_running_narrow_the_selection():
    run = make_run(edges=CHAIN)
    set_state(ti_of(run, "a"), TIS.FAILED)
    set_state(ti_of(run, "b"), TIS.RUNNING)
    assert ids(select_task_instances("etl", run_ids=[run.run_id], only_failed=True)) == ["a"]
    assert ids(select_task_instances("etl", run_ids=[run.run_id], only_running=True)) == ["b"]


# --- dry runs are what happens -------------------------------------------------------------------


def test_a_dry_clear_changes_nothing_and_lists_what_the_clear_then_changes(published, on_commit):
    run = make_run(edges=CHAIN)
    for task_id in CHAIN:
        set_state(ti_of(run, task_id), TIS.SUCCESS)
    DagRun.objects.filter(pk=run.pk).update(state=DagRunState.SUCCESS)
    selected = select_task_instances(
        "etl", run_ids=[run.run_id], task_ids=["b"], include_downstream=True
    )
    before = states()
    with on_commit():
        preview = do_clear(selected, ACTOR, dry_run=True)
    assert states() == before and published == [] and not AuditEvent.objects.exists()
    with on_commit():
        done = do_clear(selected, ACTOR)
    assert ids(preview) == ids(done) == ["b", "c"]
    changed = {key for key, state in states().items() if state != before[key]}
    assert changed == {(run.run_id, "b"), (run.run_id, "c")}
    assert DagRun.objects.get().state == DagRunState.RUNNING
    audit = AuditEvent.objects.get()
    assert (audit.event, audit.owner) == ("clear", "tester")
    assert audit.extra["task_instances"] == [f"{run.run_id}/b", f"{run.run_id}/c"]
    assert [(e["kind"], e["run_id"]) for e in published] == [("run", run.run_id)]


def test_a_dry_mark_lists_only_what_changes(published, on_commit):
    run = make_run(edges=CHAIN)
    set_state(ti_of(run, "a"), TIS.SUCCESS)
    selected = select_task_instances("etl", run_ids=[run.run_id])
    preview = do_mark_state(selected, TIS.SUCCESS, ACTOR, dry_run=True)
    assert ids(preview) == ["b", "c"] and published == []
    with on_commit():
        done = do_mark_state(selected, TIS.SUCCESS, ACTOR)
    assert ids(done) == ids(preview)
    assert set(states().values()) == {TIS.SUCCESS}
    assert AuditEvent.objects.get().event == "mark_success"
    assert [e["kind"] for e in published] == ["run"]


def test_marking_refuses_a_state_a_person_cannot_set():
    run = make_run(edges=CHAIN)
    with pytest.raises(
        InvalidSelection, match="'running' is not a state a task instance can be set"
    ):
        do_mark_state(select_task_instances("etl", run_ids=[run.run_id]), TIS.RUNNING, ACTOR)


def test_a_dry_run_state_change_lists_each_task_instance_with_its_new_state(published, on_commit):
    run = make_run(edges=CHAIN)
    set_state(ti_of(run, "a"), TIS.SUCCESS)
    set_state(ti_of(run, "b"), TIS.RUNNING)
    preview = do_set_run_state("etl", run.run_id, DagRunState.FAILED, ACTOR, dry_run=True)
    assert [(ti.task_id, new) for ti, new in preview.task_instances] == [
        ("b", TIS.FAILED),
        ("c", TIS.SKIPPED),
    ]
    assert DagRun.objects.get().state == DagRunState.RUNNING and published == []
    with on_commit():
        do_set_run_state("etl", run.run_id, DagRunState.FAILED, ACTOR)
    after = {t.task_id: t.state for t in TaskInstance.objects.all()}
    assert after == {"a": TIS.SUCCESS, "b": TIS.FAILED, "c": TIS.SKIPPED}
    assert DagRun.objects.get().state == DagRunState.FAILED
    assert AuditEvent.objects.get().event == "set_run_state_failed"
    assert [(e["kind"], e["run_id"]) for e in published] == [("run", run.run_id)]


def test_a_dry_delete_counts_what_the_delete_removes():
    run = make_run(edges=CHAIN)
    preview = do_delete_run("etl", run.run_id, ACTOR, dry_run=True)
    assert len(preview.task_instances) == 3 and DagRun.objects.exists()
    do_delete_run("etl", run.run_id, ACTOR)
    assert not DagRun.objects.exists()
    assert AuditEvent.objects.get().event == "delete_dag_run"


# --- state and note in one transaction -------------------------------------------------------------


def test_run_state_and_note_land_together(published, on_commit):
    run = make_run(edges=CHAIN)
    with on_commit():
        do_set_run_state("etl", run.run_id, DagRunState.SUCCESS, ACTOR, note="checked")
    run.refresh_from_db()
    assert (run.state, run.note) == (DagRunState.SUCCESS, "checked")
    assert sorted(a.event for a in AuditEvent.objects.all()) == [
        "set_dag_run_note",
        "set_run_state_success",
    ]


def test_a_refused_note_leaves_the_run_state_alone():
    run = make_run(edges=CHAIN)
    with pytest.raises(NoteInvalid):
        do_set_run_state("etl", run.run_id, DagRunState.SUCCESS, ACTOR, note="x" * 1001)
    assert DagRun.objects.get().state == DagRunState.RUNNING
    assert not AuditEvent.objects.exists()


def test_a_failing_note_write_rolls_the_mark_back(monkeypatch):
    from dagruns.actions import task_instances

    run = make_run(edges=CHAIN)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(task_instances, "write_ti_notes", broken)
    selected = select_task_instances("etl", run_ids=[run.run_id], task_ids=["a"])
    with pytest.raises(RuntimeError):
        do_mark_state(selected, TIS.SUCCESS, ACTOR, note="why")
    assert ti_of(run, "a").state is None
    assert not AuditEvent.objects.exists()


def test_mark_with_a_note_writes_the_note_on_the_patched_task_only():
    run = make_run(edges=CHAIN)
    a = ti_of(run, "a")
    selected = select_task_instances(
        "etl", run_ids=[run.run_id], task_ids=["a"], include_downstream=True
    )
    do_mark_state(selected, TIS.SUCCESS, ACTOR, note="by hand", note_on=[a])
    assert {t.task_id: t.note for t in TaskInstance.objects.all()} == {
        "a": "by hand",
        "b": "",
        "c": "",
    }


def test_clear_with_a_note_writes_both():
    run = make_run(edges=CHAIN)
    set_state(ti_of(run, "a"), TIS.FAILED)
    do_clear(
        select_task_instances("etl", run_ids=[run.run_id], task_ids=["a"]), ACTOR, note="again"
    )
    a = ti_of(run, "a")
    assert (a.state, a.note) == (None, "again")


def test_clearing_a_run_with_a_note_writes_both_or_neither():
    run = make_run(edges=CHAIN)
    set_state(ti_of(run, "a"), TIS.FAILED)
    with pytest.raises(NoteInvalid):
        do_clear_run("etl", run.run_id, ACTOR, only_failed=True, note="x" * 1001)
    assert ti_of(run, "a").state == TIS.FAILED
    assert [
        t.task_id for t in do_clear_run("etl", run.run_id, ACTOR, only_failed=True, dry_run=True)
    ] == ["a"]
    do_clear_run("etl", run.run_id, ACTOR, only_failed=True, note="again")
    run.refresh_from_db()
    assert (ti_of(run, "a").state, run.note) == (None, "again")


def test_a_cleared_finished_run_starts_again_so_its_duration_counts_from_the_latest_start():
    run = make_run(edges=CHAIN)
    first_start = run.run_after - timedelta(days=1)
    DagRun.objects.filter(pk=run.pk).update(
        state=DagRunState.FAILED, start_date=first_start, end_date=first_start + timedelta(hours=1)
    )
    set_state(ti_of(run, "a"), TIS.FAILED)
    do_clear_run("etl", run.run_id, ACTOR, only_failed=True)
    run.refresh_from_db()
    assert run.state == DagRunState.RUNNING and run.end_date is None
    assert run.start_date is not None and run.start_date > first_start
