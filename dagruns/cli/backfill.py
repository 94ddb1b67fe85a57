"""`manage.py dags backfill`: Airflow's backfill command (Airflow 3's `backfill create`, with
the `dags backfill` spelling of its date flags: --start-date/-s and --end-date/-e)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError

from dagruns.actions.audit import Actor
from dagruns.actions.backfills import (
    DEFAULT_MAX_ACTIVE_RUNS,
    BackfillRequest,
    do_create_backfill,
    do_dry_run_backfill,
)
from dagruns.cli.output import add_output_argument, render
from dagruns.cli.parsing import parse_conf, parse_date
from dagruns.models import ReprocessBehavior

DRY_RUN_COLUMNS = ["logical_date", "existing_run_id", "existing_state", "outcome"]
BACKFILL_COLUMNS = [
    "id",
    "dag_id",
    "from_date",
    "to_date",
    "reprocess_behavior",
    "max_active_runs",
    "runs",
]


def add_backfill_arguments(sub: Any) -> None:
    cmd = sub.add_parser(
        "backfill", help="Create runs of a DAG for the past dates between two logical dates."
    )
    cmd.add_argument("dag_id")
    cmd.add_argument("-s", "--start-date", required=True, help="ISO-8601; inclusive.")
    cmd.add_argument("-e", "--end-date", required=True, help="ISO-8601; inclusive.")
    cmd.add_argument(
        "--reprocess-behavior",
        choices=ReprocessBehavior.values,
        default=None,
        help="What to do with dates that already have a finished run (default none).",
    )
    cmd.add_argument(
        "--max-active-runs",
        type=int,
        default=DEFAULT_MAX_ACTIVE_RUNS,
        help=f"How many of its runs may be active at once (default {DEFAULT_MAX_ACTIVE_RUNS}).",
    )
    cmd.add_argument("--run-backwards", action="store_true", help="Newest dates first.")
    cmd.add_argument("--dag-run-conf", help="JSON object given to every run as its conf.")
    cmd.add_argument(
        "--dry-run", action="store_true", help="List the dates and what would happen to each."
    )
    add_output_argument(cmd)


def run_backfill(
    write: Callable[[str], Any],
    *,
    dag_id: str,
    start_date: str,
    end_date: str,
    reprocess_behavior: str | None,
    max_active_runs: int,
    run_backwards: bool,
    dag_run_conf: str | None,
    dry_run: bool,
    output: str,
    **_: Any,
) -> None:
    from_date = parse_date(start_date, "--start-date")
    to_date = parse_date(end_date, "--end-date")
    assert from_date is not None and to_date is not None
    try:
        conf = parse_conf(dag_run_conf)
    except CommandError as exc:
        raise CommandError(str(exc).replace("--conf", "--dag-run-conf")) from None
    request = BackfillRequest(
        dag_id=dag_id,
        from_date=from_date,
        to_date=to_date,
        run_backwards=run_backwards,
        dag_run_conf=conf,
        reprocess_behavior=reprocess_behavior,
        max_active_runs=max_active_runs,
    )
    if dry_run:
        plan = do_dry_run_backfill(request)
        rows = [
            {
                "logical_date": r.logical_date,
                "existing_run_id": r.existing_run_id,
                "existing_state": r.existing_state,
                "outcome": r.outcome,
            }
            for r in plan.runs
        ]
        write(render(rows, DRY_RUN_COLUMNS, output))
        return
    backfill = do_create_backfill(request, Actor.cli())
    row = {
        "id": backfill.pk,
        "dag_id": backfill.dag_id,
        "from_date": backfill.from_date,
        "to_date": backfill.to_date,
        "reprocess_behavior": backfill.reprocess_behavior,
        "max_active_runs": backfill.max_active_runs,
        "runs": backfill.date_rows.count(),
    }
    write(render([row], BACKFILL_COLUMNS, output))
