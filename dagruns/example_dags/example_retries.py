"""Retries and failure: a flaky task that succeeds on its third try, a task that always fails,
and a clean-up that runs whatever happened (`all_done`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from dagruns.sdk import DAG, BashOperator, TriggerRule, task

with DAG(
    dag_id="example_retries",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    default_args={"retries": 2, "retry_delay": timedelta(seconds=2)},
    tags=["example", "retries"],
) as dag:

    @task
    def flaky(**context) -> str:
        try_number = context["ti"].try_number
        if try_number < 3:
            raise RuntimeError(f"try {try_number}: the service is not ready yet")
        return f"worked on try {try_number}"

    always_fails = BashOperator(
        task_id="always_fails",
        bash_command="echo 'about to fail'; exit 1",
        retries=1,
        retry_delay=timedelta(seconds=1),
    )

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def clean_up() -> None:
        print("cleaning up, whatever happened upstream")

    [flaky(), always_fails] >> clean_up()
