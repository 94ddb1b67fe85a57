"""Deleting old metadata: Airflow's `airflow db clean` (`manage.py db clean`) and the retention
clean-up Celery beat runs when ORCH_RETENTION_DAYS is set — one implementation for both.

What each table's "old" means is declared once in TABLES (Airflow's `config_dict` shape: a
table, the column its age is read from, what goes with it). Rules kept from Airflow:
- a DAG run's age is its start date (Airflow's recency column; `run_after` for a run that never
  started), and the newest scheduled run of each DAG is always kept, so the DAG processor can
  still compute the next run from it (Airflow's `keep_last`);
- deleting runs deletes what hangs off them: task instances, their try history, XComs, and
  their log files.
Where we differ, and why:
- only what is finished goes: runs in success/failed, and task instances, tries and XComs of
  finished runs. A queued or running run is never touched, however old (Airflow's
  `db clean` would delete a run stuck in running since before the timestamp).
- deleted rows are not archived into `_airflow_deleted__*` tables: such tables live outside the
  schema's migrations, hold copies of encrypted XComs nobody rotates, and are never cleaned
  themselves. Back the database up first (pg_dump), or look with the dry run.
- a timestamp in the future is refused rather than taken at its word (it would delete every
  finished run, including the last minute's).

Deletion runs in batches (one transaction each, rows locked and re-checked under the lock, so a
run a person clears meanwhile is skipped, not deleted) to keep the scheduler's writes flowing on
SQLite and locks short on PostgreSQL. A batch's log files are moved into a trash folder inside
its transaction and removed after it commits (see _Trash): rows and logs go together or not at
all, and the database lock is never held while a disk deletes thousands of files. A log folder
that cannot be moved fails its batch, which is rolled back (beat retries the job).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from dagruns.actions.audit import Actor, record
from dagruns.domain import logs
from dagruns.models import (
    AuditEvent,
    DagImportError,
    DagRun,
    DagRunType,
    Job,
    TaskInstance,
    TaskInstanceHistory,
    TaskReschedule,
    XCom,
)
from dagruns.models.states import DAGRUN_FINISHED, TI_FINISHED
from dagruns.notify import events

log = logging.getLogger(__name__)

BATCH_SIZE = 200

# What ORCH_RETENTION_DAYS deletes: old finished runs with everything that hangs off them
# (task instances, history, XComs, logs), and old audit rows.
RETENTION_TABLES = ("dag_run", "audit_event")


class CleanupInvalid(ValueError):
    """Bad input to a clean-up: the message names it (and lists the valid choices)."""


@dataclass(frozen=True)
class CleanTable:
    """One table `db clean` offers (Airflow's `_TableConfig`)."""

    name: str
    recency_column: str
    rule: str  # what "old" means for it, in words (the dry run prints it)
    dependents: tuple[str, ...] = ()  # tables whose rows go with its rows


TABLES: dict[str, CleanTable] = {
    t.name: t
    for t in (
        CleanTable(
            "dag_run",
            "start_date",
            "finished runs (success/failed) started before the timestamp; the newest "
            "scheduled run of each DAG is kept",
            ("task_instance", "task_instance_history", "task_reschedule", "xcom"),
        ),
        CleanTable(
            "task_instance",
            "start_date",
            "finished task instances of finished runs, started before the timestamp",
            ("task_instance_history", "task_reschedule", "xcom"),
        ),
        CleanTable(
            "task_instance_history",
            "start_date",
            "earlier tries of task instances of finished runs, started before the timestamp",
        ),
        CleanTable(
            "task_reschedule",
            "start_date",
            "reschedules of sensors of finished runs, started before the timestamp",
        ),
        CleanTable("xcom", "timestamp", "XComs of finished runs written before the timestamp"),
        CleanTable("audit_event", "when", "audit log rows (Airflow's `log` table)"),
        CleanTable("import_error", "timestamp", "DAG import errors recorded before it"),
        CleanTable("job", "latest_heartbeat", "process heartbeat rows last beating before it"),
    )
}
ALL_TABLES = tuple(TABLES)  # the order they are cleaned in: owners before what they own


@dataclass
class CleanReport:
    """What a clean-up deleted, or with `dry_run` would delete: rows per table, log files."""

    before: datetime
    tables: list[str]
    dry_run: bool
    rows: dict[str, int] = field(default_factory=dict)
    log_files: int = 0

    def add(self, table: str, count: int) -> None:
        if count:
            self.rows[table] = self.rows.get(table, 0) + count

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        """ "dag_run 2, task_instance 6, …" in cleaning order ("no rows" when nothing)."""
        counts = [f"{t} {self.rows[t]}" for t in ALL_TABLES if t in self.rows]
        return ", ".join(counts) or "no rows"


# --- checks -----------------------------------------------------------------------------------


def check_tables(names: Iterable[str] | None) -> list[str]:
    """The tables to clean, in cleaning order (None: all of them). An unknown name is refused,
    naming it and the valid ones (Airflow only warns and skips). A table's dependents are not
    cleaned by their own rules unless named too: they go with its rows (a kept run keeps its
    task instances), where Airflow would also clean them on their own."""
    wanted = set(ALL_TABLES if names is None else names)
    unknown = sorted(wanted - set(TABLES))
    if unknown:
        raise CleanupInvalid(
            f"unknown table(s) {', '.join(unknown)}: the tables are {', '.join(ALL_TABLES)}"
        )
    if not wanted:
        raise CleanupInvalid(f"no table given: the tables are {', '.join(ALL_TABLES)}")
    return [name for name in ALL_TABLES if name in wanted]


def check_clean_before(before: datetime, now: datetime | None = None) -> datetime:
    """The moment before which data goes: aware, and not in the future."""
    if timezone.is_naive(before):
        raise CleanupInvalid("the clean-before timestamp must carry a timezone")
    now = now or timezone.now()
    if before > now:
        raise CleanupInvalid(
            f"the clean-before timestamp {before.isoformat()} is in the future (now is "
            f"{now.isoformat()}): it would delete every finished run, including the last "
            "minute's; give a moment in the past"
        )
    return before


# --- what is old ------------------------------------------------------------------------------


_AUTOMATED = (DagRunType.SCHEDULED, DagRunType.BACKFILL)


def _not_the_newest_scheduled_run() -> Q:
    """Excludes the run `last_automated_data_interval` reads for each DAG (the processor
    computes the next run from it): it is never deleted. NOT EXISTS rather than "pk != the
    newest's pk", which a DAG with no scheduled run (NULL) would turn into "delete nothing"."""
    newer = DagRun.objects.filter(
        dag=OuterRef("dag"),
        run_type__in=_AUTOMATED,
        data_interval_start__isnull=False,
        logical_date__gt=OuterRef("logical_date"),
    )
    automated = Q(run_type__in=_AUTOMATED, data_interval_start__isnull=False)
    return ~automated | Q(Exists(newer))


def old_runs(before: datetime) -> QuerySet[DagRun]:
    return (
        DagRun.objects.filter(state__in=DAGRUN_FINISHED)
        .alias(age=Coalesce("start_date", "run_after"))
        .filter(age__lt=before)
        .filter(_not_the_newest_scheduled_run())
    )


def old_task_instances(before: datetime) -> QuerySet[TaskInstance]:
    return (
        TaskInstance.objects.filter(state__in=TI_FINISHED, dag_run__state__in=DAGRUN_FINISHED)
        .alias(age=Coalesce("start_date", "end_date", "dag_run__run_after"))
        .filter(age__lt=before)
    )


def old_history(before: datetime) -> QuerySet[TaskInstanceHistory]:
    return (
        TaskInstanceHistory.objects.filter(task_instance__dag_run__state__in=DAGRUN_FINISHED)
        .alias(age=Coalesce("start_date", "end_date", "task_instance__dag_run__run_after"))
        .filter(age__lt=before)
    )


def old_reschedules(before: datetime) -> QuerySet[TaskReschedule]:
    return TaskReschedule.objects.filter(
        task_instance__dag_run__state__in=DAGRUN_FINISHED, start_date__lt=before
    )


def old_xcoms(before: datetime) -> QuerySet[XCom]:
    return XCom.objects.filter(dag_run__state__in=DAGRUN_FINISHED, timestamp__lt=before)


def _xcoms_of(tis: QuerySet[TaskInstance]) -> Q:
    return Q(
        Exists(
            tis.filter(
                dag_run=OuterRef("dag_run"),
                task_id=OuterRef("task_id"),
                map_index=OuterRef("map_index"),
            )
        )
    )


_SIMPLE: dict[str, tuple[type[Model], str]] = {
    "audit_event": (AuditEvent, "when"),
    "import_error": (DagImportError, "timestamp"),
    "job": (Job, "latest_heartbeat"),
}


def _old_simple(table: str, before: datetime) -> QuerySet:
    model, column = _SIMPLE[table]
    return model._default_manager.filter(**{f"{column}__lt": before})


# --- the action -------------------------------------------------------------------------------


def do_clean(
    before: datetime,
    tables: Iterable[str] | None,
    actor: Actor,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> CleanReport:
    """Delete what is older than `before` in `tables` (None: all of them), or
    with `dry_run` count what would go and delete nothing. Raises CleanupInvalid for an
    unknown table or a future timestamp. Records one audit row when something was deleted."""
    names = check_tables(tables)
    check_clean_before(before, now)
    report = CleanReport(before=before, tables=names, dry_run=dry_run)
    if dry_run:
        _count(report, set(names))
        return report
    _empty_old_trash()
    touched_dags: set[str] = set()
    if "dag_run" in names:
        _delete_runs(report, touched_dags)
    if "task_instance" in names:
        _delete_task_instances(report, touched_dags)
    if "task_instance_history" in names:
        _delete_history(report, touched_dags)
    if "task_reschedule" in names:
        _delete_in_batches(report, lambda: old_reschedules(report.before))
    if "xcom" in names:
        _delete_in_batches(report, lambda: old_xcoms(report.before))
    for table in _SIMPLE:
        if table in names:
            _delete_in_batches(report, functools.partial(_old_simple, table, report.before))
    if report.total:
        record(
            actor,
            "db_clean",
            extra={
                "clean_before_timestamp": before.isoformat(),
                "tables": names,
                "rows": report.rows,
                "log_files": report.log_files,
            },
        )
        for dag_id in sorted(touched_dags):
            events.notify("dag", dag_id=dag_id)
    return report


def _count(report: CleanReport, names: set[str]) -> None:
    """The dry run: the same rules, counted as the real run would meet them (a table's own
    rule skips what an earlier table's deletion already took)."""
    before = report.before
    runs = old_runs(before) if "dag_run" in names else DagRun.objects.none()
    tis = TaskInstance.objects.filter(dag_run__in=runs.values("pk"))
    if "task_instance" in names:
        tis = TaskInstance.objects.filter(
            Q(dag_run__in=runs.values("pk")) | Q(pk__in=old_task_instances(before).values("pk"))
        )
    history = TaskInstanceHistory.objects.filter(task_instance__in=tis.values("pk"))
    if "task_instance_history" in names:
        history = TaskInstanceHistory.objects.filter(
            Q(task_instance__in=tis.values("pk")) | Q(pk__in=old_history(before).values("pk"))
        )
    reschedules = TaskReschedule.objects.filter(task_instance__in=tis.values("pk"))
    if "task_reschedule" in names:
        reschedules = TaskReschedule.objects.filter(
            Q(task_instance__in=tis.values("pk")) | Q(pk__in=old_reschedules(before).values("pk"))
        )
    xcom_rule = Q(dag_run__in=runs.values("pk")) | _xcoms_of(tis)
    if "xcom" in names:
        xcom_rule |= Q(pk__in=old_xcoms(before).values("pk"))
    report.add("dag_run", runs.count())
    report.add("task_instance", tis.count())
    report.add("task_instance_history", history.count())
    report.add("task_reschedule", reschedules.count())
    report.add("xcom", XCom.objects.filter(xcom_rule).count())
    for table in _SIMPLE:
        if table in names:
            report.add(table, _old_simple(table, before).count())
    for run in runs.only("dag_id", "run_id").iterator():
        report.log_files += _count_files(logs.run_log_dir(run.dag_id, run.run_id))
    other_tis = tis.exclude(dag_run__in=runs.values("pk"))
    other_history = history.exclude(task_instance__dag_run__in=runs.values("pk"))
    report.log_files += sum(path.is_file() for path in set(_try_logs(other_tis, other_history)))


def _count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def _batches(queryset_of: Callable[[], QuerySet]) -> Iterable[list]:
    """Primary keys of the rows `queryset_of()` selects, a batch at a time, in key order (a
    row skipped because it is locked or no longer old is not selected again)."""
    cursor = None
    while True:
        rows = queryset_of().order_by("pk")
        if cursor is not None:
            rows = rows.filter(pk__gt=cursor)
        ids = list(rows.values_list("pk", flat=True)[:BATCH_SIZE])
        if not ids:
            return
        cursor = ids[-1]
        yield ids


def _locked(queryset: QuerySet, ids: list) -> QuerySet:
    # The rows are re-selected by their rule under the lock: a run a person cleared since the
    # batch was read (queued again) is no longer old-and-finished and stays. skip_locked: a row
    # someone is changing right now is left for the next clean-up rather than waited for.
    return queryset.select_for_update(skip_locked=True, of=("self",)).filter(pk__in=ids)


def _add_deleted(report: CleanReport, per_model: dict[str, int]) -> None:
    from django.apps import apps

    for label, count in per_model.items():
        report.add(apps.get_model(label)._meta.db_table, count)


def _delete_runs(report: CleanReport, touched_dags: set[str]) -> None:
    for ids in _batches(lambda: old_runs(report.before)):
        with _Trash(report) as trash, transaction.atomic():
            runs = list(
                _locked(old_runs(report.before), ids).only("pk", "dag_id", "run_id").order_by("pk")
            )
            if not runs:
                continue
            _, per_model = DagRun.objects.filter(pk__in=[r.pk for r in runs]).delete()
            _add_deleted(report, per_model)
            for run in runs:
                touched_dags.add(run.dag_id)
                trash.take_folder(logs.run_log_dir(run.dag_id, run.run_id))


def _delete_task_instances(report: CleanReport, touched_dags: set[str]) -> None:
    for ids in _batches(lambda: old_task_instances(report.before)):
        with _Trash(report) as trash, transaction.atomic():
            tis = _locked(old_task_instances(report.before), ids)
            pks = list(tis.values_list("pk", flat=True))
            if not pks:
                continue
            chosen = TaskInstance.objects.filter(pk__in=pks)
            paths = list(
                _try_logs(chosen, TaskInstanceHistory.objects.filter(task_instance__in=pks))
            )
            touched_dags.update(chosen.values_list("dag_id", flat=True))
            _, per_model = XCom.objects.filter(_xcoms_of(chosen)).delete()
            _add_deleted(report, per_model)
            _, per_model = chosen.delete()
            _add_deleted(report, per_model)
            trash.take_files(paths)


def _delete_history(report: CleanReport, touched_dags: set[str]) -> None:
    for ids in _batches(lambda: old_history(report.before)):
        with _Trash(report) as trash, transaction.atomic():
            rows = _locked(old_history(report.before), ids)
            chosen = TaskInstanceHistory.objects.filter(
                pk__in=list(rows.values_list("pk", flat=True))
            )
            paths = list(_try_logs(TaskInstance.objects.none(), chosen))
            touched_dags.update(chosen.values_list("dag_id", flat=True))
            _, per_model = chosen.delete()
            _add_deleted(report, per_model)
            trash.take_files(paths)


def _delete_in_batches(report: CleanReport, queryset_of: Callable[[], QuerySet]) -> None:
    for ids in _batches(queryset_of):
        with transaction.atomic():
            rows = _locked(queryset_of(), ids)
            pks = list(rows.values_list("pk", flat=True))
            _, per_model = rows.model._default_manager.filter(pk__in=pks).delete()
            _add_deleted(report, per_model)


# --- log files --------------------------------------------------------------------------------


def _try_logs(
    tis: QuerySet[TaskInstance], history: QuerySet[TaskInstanceHistory]
) -> Iterable[Path]:
    """The log file of every try of `tis` (all tries up to the current one) and of each
    `history` row."""
    for ti in tis.only("dag_id", "run_id", "task_id", "map_index", "try_number").iterator():
        for number in range(1, ti.try_number + 1):
            yield logs.ti_log_path(ti, number)
    for row in history.only("dag_id", "run_id", "task_id", "map_index", "try_number").iterator():
        yield logs.ti_log_path(row)


class _Trash:
    """Log files leave with their batch's rows: inside the batch's transaction each is moved
    (one rename) into a trash folder under ORCH_LOG_DIR; if the transaction fails, everything
    moved goes back, and once it committed the trash is removed. The database lock is held for
    renames only, never for the (slow, on a busy disk) removal of many files. A trash folder
    left by a crash is removed by the next clean-up."""

    def __init__(self, report: CleanReport) -> None:
        self.report = report
        self.root = _trash_root() / uuid.uuid4().hex
        self.moved: list[tuple[Path, Path]] = []  # (where it was, where it is now)
        self.files = 0

    def __enter__(self) -> _Trash:
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        if error is not None:
            for original, trashed in reversed(self.moved):
                try:
                    original.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(trashed, original)
                except OSError as exc:
                    log.error("cannot put the logs %s back from %s: %s", original, trashed, exc)
                    return  # keep the trash: what is in it is all that is left of them
            self._remove(self.root)
            return
        self.report.log_files += self.files
        self._remove(self.root)
        for original, _ in self.moved:
            _prune_empty_parents(original.parent)

    def take_folder(self, folder: Path) -> None:
        """A run's log folder. OSError propagates: the batch rolls back (the job is retried)."""
        if not folder.exists() and not folder.is_symlink():
            return
        if not folder.is_dir() or folder.is_symlink():
            raise OSError(f"cannot remove the run's logs: {folder} is not a folder")
        files = _count_files(folder)
        self._move(folder)
        self.files += files

    def take_files(self, paths: Iterable[Path]) -> None:
        for path in dict.fromkeys(paths):
            if path.is_file():
                self._move(path)
                self.files += 1

    def _move(self, path: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / str(len(self.moved))
        os.rename(path, target)
        self.moved.append((path, target))

    @staticmethod
    def _remove(folder: Path) -> None:
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            pass
        except OSError as exc:  # the rows are gone; the next clean-up empties the trash
            log.warning(
                "cannot empty the log trash %s (%s); the next clean-up retries", folder, exc
            )


def _trash_root() -> Path:
    # Not a `dag_id=` folder: nothing that reads logs ever looks in it.
    return settings.ORCH.log_dir / ".deleted-logs"


def _empty_old_trash() -> None:
    root = _trash_root()
    if root.is_dir():
        for leftover in root.iterdir():
            _Trash._remove(leftover)


def _prune_empty_parents(folder: Path) -> None:
    """Remove `folder` and its parents up to the log folder while they are empty."""
    root = settings.ORCH.log_dir
    while folder != root and root in folder.parents:
        with contextlib.suppress(OSError):
            folder.rmdir()  # fails (and stops) when something else is in it
        if folder.exists():
            return
        folder = folder.parent


__all__ = [
    "ALL_TABLES",
    "RETENTION_TABLES",
    "TABLES",
    "CleanReport",
    "CleanupInvalid",
    "check_clean_before",
    "check_tables",
    "do_clean",
]
