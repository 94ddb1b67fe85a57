"""Task groups: related tasks drawn as one collapsible box, including a nested group."""

from __future__ import annotations

from datetime import datetime

from dagruns.sdk import DAG, BashOperator, EmptyOperator, TaskGroup

with DAG(
    dag_id="example_task_groups",
    schedule="0 6 * * 1-5",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example", "groups"],
) as dag:
    start = EmptyOperator(task_id="start")

    with TaskGroup("ingest", tooltip="Fetch the raw files") as ingest:
        for source in ("orders", "customers", "products"):
            BashOperator(task_id=f"fetch_{source}", bash_command=f"echo fetching {source}")

    with TaskGroup("quality", tooltip="Check what was fetched") as quality:
        row_counts = EmptyOperator(task_id="row_counts")
        with TaskGroup("schemas") as schemas:
            EmptyOperator(task_id="orders") >> EmptyOperator(task_id="customers")
        row_counts >> schemas

    publish = BashOperator(task_id="publish", bash_command="echo published {{ ds }}")

    start >> ingest >> quality >> publish
