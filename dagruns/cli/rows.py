"""Rows for CLI output, with Airflow's field names."""

from __future__ import annotations

from dagruns.models import DagModel, DagRun, TaskInstance

DAG_COLUMNS = ["dag_id", "fileloc", "owners", "is_paused", "tags"]
IMPORT_ERROR_COLUMNS = ["filename", "line_number", "timestamp", "stack_trace"]
RUN_COLUMNS = ["dag_id", "run_id", "state", "run_type", "logical_date", "start_date", "end_date"]
TI_COLUMNS = [
    "dag_id",
    "run_id",
    "task_id",
    "map_index",
    "state",
    "try_number",
    "start_date",
    "end_date",
]


def dag_row(dag: DagModel) -> dict:
    return {
        "dag_id": dag.dag_id,
        "fileloc": dag.fileloc,
        "owners": dag.owners,
        "is_paused": dag.is_paused,
        "tags": sorted(t.name for t in dag.tags.all()),
    }


def run_row(run: DagRun) -> dict:
    return {
        "dag_id": run.dag_id,
        "run_id": run.run_id,
        "state": run.state,
        "run_type": run.run_type,
        "logical_date": run.logical_date,
        "start_date": run.start_date,
        "end_date": run.end_date,
    }


def ti_row(ti: TaskInstance) -> dict:
    return {
        "dag_id": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        "map_index": ti.map_index,
        "state": ti.state,
        "try_number": ti.try_number,
        "start_date": ti.start_date,
        "end_date": ti.end_date,
    }
