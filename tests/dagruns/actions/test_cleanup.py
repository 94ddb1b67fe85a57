"""Deleting old metadata (`db clean` and the retention job): exactly what is old and finished
goes, with its task instances, tries, XComs and log files; the rest stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.cleanup import (
    ALL_TABLES,
    RETENTION_TABLES,
    CleanupInvalid,
    check_tables,
    do_clean,
)
from dagruns.actions.tries import record_try_history
from dagruns.domain.logs import append_lines, run_log_dir, ti_log_path
from dagruns.models import (
    AuditEvent,
    DagImportError,
    DagRun,
    Job,
    TaskInstance,
    TaskInstanceHistory,
    XCom,
)
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="tester")
NOW = timezone.now()
DAY = timedelta(days=1)


def _run(dag, name: str, *, age_days: float, state: str, run_type: str = "scheduled"):
    """A run of the 3-task DAG `age_days` old; finished runs get a retried first task (two
    tries: a history row and two log files), an XCom per task and a log per try."""
    finished = state in ("success", "failed")
    ti_state = "success" if finished else "running"
    run = add_run(
        dag,
        f"{name}",
        state=state,
        when=NOW - timedelta(days=age_days),
        run_type=run_type,
        states={"extract": ti_state, "transform": ti_state, "load": ti_state},
    )
    for ti in TaskInstance.objects.filter(dag_run=run):
        XCom.objects.create(
            dag_run=run, dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, key="k"
        )
        if ti.task_id == "extract":
            ti.try_number = 1
            record_try_history(ti)
            ti.try_number = 2
            ti.save(update_fields=["try_number"])
        record_try_history(ti)
        for number in range(1, ti.try_number + 1):
            append_lines(ti_log_path(ti, number), [f"{name} try {number}"])
    XCom.objects.filter(dag_run=run).update(timestamp=NOW - timedelta(days=age_days))
    return run


@pytest.fixture
def world():
    dag = store_dag("etl")
    runs = {
        "old_success": _run(dag, "old_success", age_days=100, state="success"),
        "old_manual_failed": _run(
            dag, "old_manual_failed", age_days=90, state="failed", run_type="manual"
        ),
        "old_running": _run(dag, "old_running", age_days=95, state="running"),
        "newest_scheduled": _run(dag, "newest_scheduled", age_days=80, state="success"),
        "recent": _run(dag, "recent", age_days=1, state="success", run_type="manual"),
    }
    old_audit = AuditEvent.objects.create(event="old", owner="x")
    AuditEvent.objects.filter(pk=old_audit.pk).update(when=NOW - 40 * DAY)
    AuditEvent.objects.create(event="new", owner="x")
    return runs


def _left() -> set[str]:
    return set(DagRun.objects.values_list("run_id", flat=True))


def test_it_deletes_old_finished_runs_with_everything_of_theirs_and_keeps_the_rest(world):
    report = do_clean(NOW - 30 * DAY, RETENTION_TABLES, ACTOR)
    assert _left() == {"old_running", "newest_scheduled", "recent"}
    for gone in ("old_success", "old_manual_failed"):
        assert not TaskInstance.objects.filter(run_id=gone).exists()
        assert not TaskInstanceHistory.objects.filter(run_id=gone).exists()
        assert not XCom.objects.filter(run_id=gone).exists()
        assert not run_log_dir("etl", gone).exists()
    for kept in ("old_running", "newest_scheduled", "recent"):
        assert TaskInstance.objects.filter(run_id=kept).count() == 3
        assert XCom.objects.filter(run_id=kept).count() == 3
        assert run_log_dir("etl", kept).is_dir()
    assert list(AuditEvent.objects.exclude(event="db_clean").values_list("event", flat=True)) == [
        "new"
    ]
    # 2 runs x (3 TIs, 4 history rows, 3 XComs, 4 log files)
    assert report.rows == {
        "dag_run": 2,
        "task_instance": 6,
        "task_instance_history": 8,
        "xcom": 6,
        "audit_event": 1,
    }
    assert report.log_files == 8
    audit = AuditEvent.objects.get(event="db_clean")
    assert audit.owner == "tester" and audit.extra["rows"]["dag_run"] == 2


def test_a_dry_run_counts_exactly_what_the_real_run_deletes_and_deletes_nothing(world):
    before = NOW - 30 * DAY
    dry = do_clean(before, None, ACTOR, dry_run=True)
    assert len(_left()) == 5 and not AuditEvent.objects.filter(event="db_clean").exists()
    assert run_log_dir("etl", "old_success").is_dir()
    real = do_clean(before, None, ACTOR)
    assert dry.rows == real.rows and dry.log_files == real.log_files
    assert real.rows["dag_run"] == 2


def test_per_table_rules_touch_only_finished_runs_and_overlap_is_counted_once(world):
    """task_instance, task_instance_history and xcom alone: old rows of finished runs only
    (the running run keeps everything, the newest scheduled run loses its old rows), and the
    dry run's counts, overlaps included, equal the real ones."""
    before = NOW - 30 * DAY
    tables = ["task_instance", "task_instance_history", "xcom"]
    dry = do_clean(before, tables, ACTOR, dry_run=True)
    real = do_clean(before, tables, ACTOR)
    assert dry.rows == real.rows and dry.log_files == real.log_files
    assert _left() == set(world)  # runs stay
    assert TaskInstance.objects.filter(run_id="old_running").count() == 3
    assert not TaskInstance.objects.filter(run_id="old_success").exists()
    assert not XCom.objects.filter(run_id="newest_scheduled").exists()
    assert XCom.objects.filter(run_id="recent").count() == 3
    assert not ti_log_path(
        TaskInstance(dag_id="etl", run_id="old_success", task_id="extract", map_index=-1), 1
    ).exists()
    assert run_log_dir("etl", "old_running").is_dir()


def test_history_alone_removes_old_tries_and_their_logs_but_not_the_current_try(world):
    do_clean(NOW - 30 * DAY, ["task_instance_history"], ACTOR)
    ti = TaskInstance.objects.get(run_id="old_success", task_id="extract")
    assert not TaskInstanceHistory.objects.filter(task_instance=ti).exists()
    assert not ti_log_path(ti, 1).exists() and not ti_log_path(ti, 2).exists()
    assert TaskInstanceHistory.objects.filter(run_id="old_running").exists()
    assert TaskInstanceHistory.objects.filter(run_id="recent").count() == 4


def test_import_errors_and_job_rows_go_by_their_own_dates():
    DagImportError.objects.create(
        filename="/old.py", message="x", stack_trace="", timestamp=NOW - 40 * DAY
    )
    DagImportError.objects.create(filename="/new.py", message="x", stack_trace="", timestamp=NOW)
    for beat in (NOW - 40 * DAY, NOW):
        Job.objects.create(job_type="scheduler", start_date=beat, latest_heartbeat=beat)
    report = do_clean(NOW - 30 * DAY, ["import_error", "job"], ACTOR)
    assert report.rows == {"import_error": 1, "job": 1}
    assert list(DagImportError.objects.values_list("filename", flat=True)) == ["/new.py"]
    assert Job.objects.get().latest_heartbeat == NOW


def test_a_batch_whose_logs_cannot_be_moved_keeps_its_rows_and_every_log(world, orch_settings):
    """The second run of the batch has a file where its log folder should be: the batch rolls
    back, and the first run's logs, already moved to the trash, are put back."""
    import shutil

    first = run_log_dir("etl", "old_success")
    files_before = sorted(p.relative_to(first) for p in first.rglob("*"))
    broken = run_log_dir("etl", "old_manual_failed")
    shutil.rmtree(broken)
    broken.write_text("not a folder")
    with pytest.raises(OSError, match="is not a folder"):
        do_clean(NOW - 30 * DAY, ["dag_run"], ACTOR)
    assert {"old_success", "old_manual_failed"} <= _left()
    assert TaskInstance.objects.filter(run_id="old_success").count() == 3
    assert sorted(p.relative_to(first) for p in first.rglob("*")) == files_before
    trash = orch_settings.log_dir / ".deleted-logs"
    assert not trash.exists() or not any(trash.iterdir())


def test_bad_input_is_refused_naming_it():
    with pytest.raises(
        CleanupInvalid, match=r"unknown table\(s\) nope, zzz: the tables are dag_run"
    ):
        check_tables(["dag_run", "nope", "zzz"])
    with pytest.raises(CleanupInvalid, match="is in the future"):
        do_clean(NOW + DAY, None, ACTOR)
    assert check_tables(["xcom", "dag_run"]) == ["dag_run", "xcom"]
    assert check_tables(None) == list(ALL_TABLES)


def test_nothing_old_means_no_audit_row():
    report = do_clean(NOW - DAY, None, ACTOR)
    assert report.total == 0 and not AuditEvent.objects.exists()


def test_a_dag_with_only_manual_runs_loses_its_old_ones_too():
    dag = store_dag("adhoc")
    add_run(dag, "m_old", state="success", when=NOW - 40 * DAY, run_type="manual")
    add_run(dag, "m_new", state="success", when=NOW - DAY, run_type="manual")
    assert do_clean(NOW - 30 * DAY, ["dag_run"], ACTOR).rows["dag_run"] == 1
    assert _left() == {"m_new"}


def _reschedule(run_id: str, age_days: float) -> None:
    from dagruns.models import TaskReschedule

    ti = TaskInstance.objects.get(run_id=run_id, task_id="load")
    start = NOW - timedelta(days=age_days)
    TaskReschedule.objects.create(
        task_instance=ti,
        try_number=1,
        start_date=start,
        end_date=start,
        duration=0.0,
        reschedule_date=start + timedelta(minutes=1),
    )


def test_task_reschedule_rows_go_with_their_runs_or_by_their_own_rule(world):
    from dagruns.models import TaskReschedule

    for run_id, age in (("old_success", 100), ("old_running", 95), ("newest_scheduled", 80)):
        _reschedule(run_id, age)
    before = NOW - 30 * DAY
    # Alone: old rows of finished runs (the running run keeps its sensor's history).
    dry = do_clean(before, ["task_reschedule"], ACTOR, dry_run=True)
    real = do_clean(before, ["task_reschedule"], ACTOR)
    assert dry.rows == real.rows == {"task_reschedule": 2}
    assert list(TaskReschedule.objects.values_list("task_instance__run_id", flat=True)) == [
        "old_running"
    ]
    # With their runs: counted like every other row that goes with a run.
    _reschedule("old_manual_failed", 90)
    dry = do_clean(before, ["dag_run"], ACTOR, dry_run=True)
    real = do_clean(before, ["dag_run"], ACTOR)
    assert dry.rows == real.rows
    assert real.rows["task_reschedule"] == 1
