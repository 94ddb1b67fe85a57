"""Run parameters: a form with validated fields; values reach tasks through templates."""

from __future__ import annotations

from datetime import datetime

from dagruns.sdk import DAG, BashOperator, Param, task

with DAG(
    dag_id="example_params",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    tags=["example", "params"],
    params={
        "name": Param("world", type="string", minLength=1, description="Who to greet."),
        "times": Param(2, type="integer", minimum=1, maximum=10, description="How often."),
        "loud": Param(False, type="boolean"),
        "color": Param("green", enum=["red", "green", "blue"]),
    },
) as dag:
    greet = BashOperator(
        task_id="greet",
        bash_command=(
            "for i in $(seq {{ params.times }}); do echo 'Hello {{ params.name }}'; done"
        ),
    )

    @task
    def report(params=None) -> str:
        greeting = f"Hello {params['name']} in {params['color']}"
        return greeting.upper() if params["loud"] else greeting

    greet >> report()
