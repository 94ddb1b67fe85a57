"""Writing parse results into the metadata database: DAGs, versions, tags, import errors.

One transaction per file, so a crash halfway leaves every file either fully recorded or not at
all, and SQLite's write lock is held for milliseconds at a time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from dagruns.actions.asset_watchers import do_sync_asset_watchers, scheduled_asset_ids
from dagruns.actions.assets import do_sync_asset_references
from dagruns.domain.schedule_info import (
    NO_NEXT_RUN,
    ScheduleError,
    last_automated_data_interval,
    schedule_fields,
)
from dagruns.models import DagFile, DagImportError, DagModel, DagTag, DagVersion
from dagruns.notify import events


@dataclass(frozen=True)
class Root:
    """A folder the processor scans; filelocs below it are shown relative to it."""

    path: str

    def relative(self, fileloc: str) -> str:
        prefix = self.path.rstrip("/") + "/"
        return fileloc[len(prefix) :] if fileloc.startswith(prefix) else fileloc


def store_result(result: dict[str, Any], root: Root, now: datetime | None = None) -> None:
    """Record what parsing one file produced."""
    now = now or timezone.now()
    path = result["fileloc"]
    if result["vanished"] or not os.path.exists(path):
        # Deleted while (or right after) it was parsed: what it defined must not come back.
        forget_file(path)
        return
    with transaction.atomic():
        defined: list[str] = []
        errors: list[dict[str, Any]] = [result["error"]] if result["error"] else []
        for entry in result["dags"]:
            clash = _defined_elsewhere(entry["dag_id"], path)
            if clash:
                errors.append(_duplicate_error(entry["dag_id"], clash, path))
                continue
            schedule_error = _store_dag(entry, result, root, now)
            if schedule_error is not None:
                errors.append(schedule_error)
            defined.append(entry["dag_id"])
        if not result["error"]:
            # A file that imports cleanly but no longer defines a DAG gives it up; a broken file
            # keeps its DAGs (with their last good version) until it is fixed, as in Airflow.
            _deactivate(DagModel.objects.filter(fileloc=path).exclude(dag_id__in=defined))
        DagModel.objects.filter(fileloc=path).update(has_import_errors=bool(errors))
        _record_errors(path, errors, now)
        for dag_id in set(defined) | set(
            DagModel.objects.filter(fileloc=path).values_list("dag_id", flat=True)
        ):
            events.notify("dag", dag_id=dag_id)
        DagFile.objects.update_or_create(
            fileloc=path,
            defaults={
                "mtime": result["mtime"],
                "size": result["size"],
                "content_hash": result["source_hash"],
                "dag_ids": defined,
                "last_parsed_at": now,
                "parse_duration": result.get("duration", 0.0),
            },
        )


def files_missing_their_dags(records: list[DagFile]) -> set[str]:
    """Files whose last parse defined a DAG that is no longer in the database.

    Deleting a DAG (REST API, `dags delete`) removes its rows but not its file; Airflow's
    processor re-parses every file on an interval, so the DAG comes back while its file
    defines it. Ours re-parses only changed files, so such a file counts as changed: the DAG
    returns on the processor's next pass. One query for all files.
    """
    listed = {dag_id for record in records for dag_id in record.dag_ids}
    if not listed:
        return set()
    present = set(DagModel.objects.values_list("dag_id", flat=True))
    return {
        record.fileloc
        for record in records
        if any(dag_id not in present for dag_id in record.dag_ids)
    }


def parse_again_for_executors(configured: list[str]) -> int:
    """Make the next pass parse again the files whose verdict depends on ORCH_EXECUTOR, when it
    may have changed since they were parsed (the processor started): those refused for naming
    an executor that was not configured (it may be now), and those whose current DAG versions
    name one that is no longer (they become an import error saying so). Unchanged files are
    not parsed otherwise. Returns how many files will be."""
    paths = set(
        DagImportError.objects.filter(message__startswith="UnknownExecutorException").values_list(
            "filename", flat=True
        )
    )
    latest = DagVersion.objects.filter(dag=OuterRef("pk")).order_by("-version_number")
    latest_ids = DagModel.objects.filter(is_active=True).annotate(
        latest=Subquery(latest.values("pk")[:1])
    )
    for fileloc, serialized in DagVersion.objects.filter(
        pk__in=latest_ids.values("latest")
    ).values_list("fileloc", "serialized"):
        if any(task.get("executor") not in (None, *configured) for task in serialized["tasks"]):
            paths.add(fileloc)
    return DagFile.objects.filter(fileloc__in=paths).delete()[0]


def forget_file(path: str) -> None:
    """The file is gone: its DAGs become inactive and its import error disappears."""
    with transaction.atomic():
        _deactivate(DagModel.objects.filter(fileloc=path, is_active=True))
        DagImportError.objects.filter(filename=path).delete()
        DagFile.objects.filter(fileloc=path).delete()


def _deactivate(dags) -> None:
    dag_ids = list(dags.values_list("dag_id", flat=True))
    if not dag_ids:
        return
    watched = scheduled_asset_ids(dag_ids)
    DagModel.objects.filter(dag_id__in=dag_ids).update(is_active=False)
    do_sync_asset_watchers(watched)  # an inactive DAG's assets are no longer watched for it
    # A file refused for defining one of these ids too may now own it: parse it again.
    for error in DagImportError.objects.filter(message__startswith="DuplicateDagId"):
        if any(f"'{dag_id}'" in error.message for dag_id in dag_ids):
            DagFile.objects.filter(fileloc=error.filename).delete()


def _defined_elsewhere(dag_id: str, path: str) -> str | None:
    """The other file that already owns `dag_id`, if it still does."""
    owner = DagModel.objects.filter(dag_id=dag_id, is_active=True).exclude(fileloc=path).first()
    if owner is None:
        return None
    other = DagFile.objects.filter(fileloc=owner.fileloc).first()
    if other is not None and dag_id in other.dag_ids:
        return owner.fileloc
    return None


def _duplicate_error(dag_id: str, other: str, path: str) -> dict[str, Any]:
    message = (
        f"DuplicateDagId: DAG id '{dag_id}' is already defined in {other}; "
        f"{path} defines it too (a dag_id must be unique across all DAG files)"
    )
    return {"message": message, "line_number": None, "stack_trace": message}


def _record_errors(path: str, errors: list[dict[str, Any]], now: datetime) -> None:
    if not errors:
        DagImportError.objects.filter(filename=path).delete()
        return
    first = errors[0]
    DagImportError.objects.update_or_create(
        filename=path,
        defaults={
            "line_number": first["line_number"],
            "message": first["message"][:2000],
            "stack_trace": "\n\n".join(e["stack_trace"] for e in errors),
            "timestamp": now,
        },
    )


def _store_dag(
    entry: dict[str, Any], result: dict[str, Any], root: Root, now: datetime
) -> dict[str, Any] | None:
    """Record one DAG; returns an import error for its file if its timetable cannot be
    scheduled (a custom timetable not registered by a plugin, or raising): the DAG is kept,
    without a next run, and the file shows the error."""
    data = entry["serialized"]
    dag_id = entry["dag_id"]
    dag, created = DagModel.objects.get_or_create(
        dag_id=dag_id,
        defaults={"fileloc": result["fileloc"], "is_paused": _paused_at_creation(data)},
    )
    latest = None if created else dag.versions.order_by("-version_number").first()
    schedule_changed = latest is None or _schedule_of(latest.serialized) != _schedule_of(data)
    dag.fileloc = result["fileloc"]
    dag.relative_fileloc = root.relative(result["fileloc"])
    dag.is_active = True
    dag.description = data.get("description") or ""
    dag.dag_display_name = data.get("dag_display_name") or dag_id
    dag.owners = data.get("owner") or ""
    dag.max_active_tasks = data.get("max_active_tasks", 16)
    dag.max_active_runs = data.get("max_active_runs", 16)
    dag.last_parsed_time = now
    problem = None
    if schedule_changed:
        last_interval = None if created else last_automated_data_interval(dag)
        try:
            fields = schedule_fields(data, now, last_interval)
        except ScheduleError as exc:
            fields = NO_NEXT_RUN
            message = f"{type(exc).__name__}: {exc}"
            problem = {"message": message, "line_number": None, "stack_trace": message}
        for field, value in fields.items():
            setattr(dag, field, value)
    dag.save()
    _sync_tags(dag, data.get("tags") or [])
    watched = do_sync_asset_references(dag, data)
    _store_version(dag, latest, entry, result)
    do_sync_asset_watchers(watched)  # reads the version just stored
    return problem


def _paused_at_creation(data: dict[str, Any]) -> bool:
    explicit = data.get("is_paused_upon_creation")
    if explicit is not None:
        return bool(explicit)
    return settings.ORCH.dags_are_paused_at_creation


# Everything the next run's date depends on: when any of these changes, next_dagrun is
# recomputed (comparing only the schedule left it stale when start_date or catchup moved).
SCHEDULE_KEYS = ("schedule", "timezone", "start_date", "end_date", "catchup")


def _schedule_of(data: dict[str, Any]) -> dict[str, Any]:
    return {key: data.get(key) for key in SCHEDULE_KEYS}


def _sync_tags(dag: DagModel, tags: list[str]) -> None:
    wanted = {str(t)[:100] for t in tags}
    existing = set(dag.tags.values_list("name", flat=True))
    if wanted == existing:
        return
    dag.tags.exclude(name__in=wanted).delete()
    DagTag.objects.bulk_create([DagTag(dag=dag, name=name) for name in wanted - existing])


def _store_version(
    dag: DagModel, latest: DagVersion | None, entry: dict[str, Any], result: dict[str, Any]
) -> None:
    if latest is not None and latest.structure_hash == entry["structure_hash"]:
        # Same structure, edited text (a comment, a docstring inside a callable): no new
        # version, but the code view must show what is in the file now.
        if latest.source_hash != result["source_hash"] or latest.fileloc != result["fileloc"]:
            latest.source_code = result["source_code"]
            latest.source_hash = result["source_hash"]
            latest.fileloc = result["fileloc"]
            latest.save(update_fields=["source_code", "source_hash", "fileloc"])
        return
    DagVersion.objects.create(
        dag=dag,
        version_number=(latest.version_number + 1) if latest else 1,
        serialized=entry["serialized"],
        structure_hash=entry["structure_hash"],
        source_code=result["source_code"],
        source_hash=result["source_hash"],
        fileloc=result["fileloc"],
    )
