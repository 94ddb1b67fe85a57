"""Branching: one of several paths runs, the others are skipped, and a join still runs."""

from __future__ import annotations

import random
from datetime import datetime

from dagruns.sdk import DAG, EmptyOperator, TriggerRule, task

with DAG(
    dag_id="example_branching",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    tags=["example", "branching"],
    doc_md="A branch picks one path at random; `join` uses `none_failed_min_one_success`.",
) as dag:
    start = EmptyOperator(task_id="start")

    @task.branch
    def choose_path() -> str:
        return random.choice(["path_a", "path_b", "path_c"])

    paths = [EmptyOperator(task_id=name) for name in ("path_a", "path_b", "path_c")]
    join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)

    start >> choose_path() >> paths >> join
