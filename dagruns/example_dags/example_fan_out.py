"""A wide fan-out: one task fans out to 50 parallel tasks that fan back in."""

from __future__ import annotations

from datetime import datetime

from dagruns.sdk import DAG, EmptyOperator, PythonOperator

WIDTH = 50


def work(number: int) -> int:
    return number * number


with DAG(
    dag_id="example_fan_out",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    max_active_tasks=16,
    tags=["example", "fan-out"],
) as dag:
    begin = EmptyOperator(task_id="begin")
    finish = EmptyOperator(task_id="finish")
    for i in range(WIDTH):
        (
            begin
            >> PythonOperator(task_id=f"work_{i:02d}", python_callable=work, op_args=[i])
            >> finish
        )
