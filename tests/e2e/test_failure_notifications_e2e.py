"""A failing task, end to end through the real pieces: its runner reports the failure over the
Execution API, the API server emails the task's address (a real local SMTP server), the run
ends failed, and the DAG processor then runs the DAG's on_failure_callback from the DAG file in
a subprocess, its output in the run's callback log. A DAG with wait_for_downstream waits for the
previous run's downstream before starting again."""

from __future__ import annotations

import email
import email.policy
import json
import socket

import pytest
from aiosmtpd.controller import Controller

from dagruns.actions.dag_callbacks import callback_log_path
from dagruns.models import DagCallbackRequest
from scheduler.processor.loop import DagProcessor
from tests.polling import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (
                envelope.rcpt_tos,
                email.message_from_bytes(envelope.content, policy=email.policy.default),
            )
        )
        return "250 OK"


@pytest.fixture
def inbox(orch_settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    orch_settings.smtp_host, orch_settings.smtp_port = "127.0.0.1", port
    orch_settings.smtp_starttls = False
    yield box
    controller.stop()


def test_a_failed_run_emails_and_runs_the_dags_failure_callback(engine, inbox, tmp_path):
    seen = tmp_path / "callback.json"
    engine.add(
        "notifies.py",
        f"""
        import json

        def on_failure(context):
            with open({str(seen)!r}, "w") as handle:
                json.dump({{"reason": context["reason"], "ti": context["ti"].task_id,
                           "state": context["dag_run"].state}}, handle)
            print("the DAG failed:", context["reason"])

        def boom():
            raise ValueError("the data was wrong")

        with DAG("notifies", schedule=None, start_date=START, on_failure_callback=on_failure):
            PythonOperator(task_id="boom", python_callable=boom, email="ops@example.com")
        """,
    )
    engine.parse()
    run = engine.run_dag("notifies")
    assert run.state == "failed" and engine.states(run) == {"boom": "failed"}

    wait_until(lambda: inbox.messages, "the failure email")
    ((to, message),) = inbox.messages
    assert to == ["ops@example.com"]
    assert (
        message["Subject"] == f"Airflow alert: <TaskInstance: notifies.boom {run.run_id} [failed]>"
    )
    assert "ValueError: the data was wrong" in message.get_content()

    assert not seen.exists()  # the scheduler never runs user code
    DagProcessor(timeout=30).run_once()
    assert json.loads(seen.read_text()) == {
        "reason": "task_failure",
        "ti": "boom",
        "state": "failed",
    }
    assert DagCallbackRequest.objects.get(dag_run=run).outcome == "success"
    assert "the DAG failed: task_failure" in callback_log_path("notifies", run.run_id).read_text()


def test_wait_for_downstream_waits_for_the_previous_runs_downstream(engine):
    engine.add(
        "chained.py",
        """
        with DAG("chained", schedule=None, start_date=START, max_active_runs=2):
            first = BashOperator(task_id="first", bash_command="true", wait_for_downstream=True)
            second = BashOperator(task_id="second", bash_command="exit 1")
            first >> second
        """,
    )
    engine.parse()
    failed = engine.run_dag("chained")
    assert engine.states(failed) == {"first": "success", "second": "failed"}
    later = engine.trigger("chained")
    # The previous run's `second` failed: `first` may not start, however long we tick.
    for _ in range(20):
        engine.scheduler().run_once()
    assert engine.states(later) == {"first": None, "second": None}
