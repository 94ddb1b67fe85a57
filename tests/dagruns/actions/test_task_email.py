"""email_on_failure / email_on_retry, as Airflow sends them: to the task's `email` addresses,
with Airflow's default subject and body, over the configured SMTP server (a real local one
here, on a free port). No address, no email; a refusing or absent SMTP server is logged with
the task named and changes nothing about the task's state."""

from __future__ import annotations

import email
import email.policy
import logging
import socket

import pytest
from aiosmtpd.controller import Controller

from dagruns.actions import task_email
from dagruns.actions.failures import fail_try_from_outside
from dagruns.actions.task_email import addresses
from dagruns.actions.tries import do_append_log, do_finish_try, do_start_try
from dagruns.models import TaskInstance
from tests.builders import make_run, queue, ti_of
from tests.polling import wait_until as wait_for

pytestmark = pytest.mark.django_db


class Inbox:
    """An aiosmtpd handler that keeps what it receives, or refuses every message."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "554 Transaction failed: refused by policy"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(inbox: Inbox, orch_settings):
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    orch_settings.smtp_host = "127.0.0.1"
    orch_settings.smtp_port = controller.port
    orch_settings.smtp_starttls = False
    orch_settings.smtp_timeout = 10.0
    orch_settings.smtp_mail_from = "orchestrator@example.com"
    return controller


@pytest.fixture
def inbox(orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.api_url = "http://orch.example.com:8080"
    box = Inbox()
    controller = _serve(box, orch_settings)
    yield box
    controller.stop()


def _running(email_settings: dict, retries: int = 0) -> TaskInstance:
    run = make_run(
        settings={"extract": {"retries": retries, "retry_delay": 60.0, **email_settings}}
    )
    ti = queue(ti_of(run, "extract"))
    do_start_try(ti.id, 1)
    ti.refresh_from_db()
    do_append_log(
        ti,
        [
            "INFO - starting",
            "ERROR - Task failed with exception:",
            "Traceback (most recent call last):",
            'ValueError: bad <input> & "quotes"',
        ],
    )
    return ti


def test_a_failed_try_emails_its_addresses_with_airflows_subject_and_body(
    inbox, django_capture_on_commit_callbacks
):
    ti = _running({"email": "a@example.com; b@example.com"})
    with django_capture_on_commit_callbacks(execute=True):
        finished = do_finish_try(ti.id, 1, state="failed")
    assert finished.state == "failed"
    wait_for(lambda: inbox.messages, "the failure email")
    ((to, message),) = inbox.messages
    assert to == ["a@example.com", "b@example.com"]
    assert message["Subject"] == f"Airflow alert: <TaskInstance: etl.extract {ti.run_id} [failed]>"
    assert message["From"] == "orchestrator@example.com"
    assert message.get_content_type() == "text/html"
    content = message.get_content()
    assert "Try 1 out of 1<br>" in content
    assert "ValueError: bad &lt;input&gt; &amp; &quot;quotes&quot;" in content
    assert "http://orch.example.com:8080/dags/etl/runs/" in content and "try_number=1" in content


def test_a_try_that_will_be_retried_sends_the_retry_email(
    inbox, django_capture_on_commit_callbacks
):
    ti = _running({"email": ["ops@example.com"]}, retries=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert do_finish_try(ti.id, 1, state="failed").state == "up_for_retry"
    wait_for(lambda: inbox.messages, "the retry email")
    message = inbox.messages[0][1]
    assert message["Subject"].endswith("[up_for_retry]>")
    assert "Try 1 out of 2<br>" in message.get_content()


@pytest.mark.parametrize(
    "email_settings, retries",
    [
        ({"email_on_failure": True}, 0),  # no address: Airflow sends nothing
        ({"email": "x@example.com", "email_on_failure": False}, 0),
        ({"email": "x@example.com", "email_on_retry": False}, 1),
    ],
)
def test_no_email_unless_the_task_asks_for_it_and_has_an_address(
    inbox, monkeypatch, django_capture_on_commit_callbacks, email_settings, retries
):
    composed = []
    monkeypatch.setattr(task_email, "_message", lambda *args: composed.append(args))
    ti = _running(email_settings, retries=retries)
    with django_capture_on_commit_callbacks(execute=True):
        do_finish_try(ti.id, 1, state="failed")
    assert composed == []


def test_a_success_sends_nothing(inbox, monkeypatch, django_capture_on_commit_callbacks):
    composed = []
    monkeypatch.setattr(task_email, "_message", lambda *args: composed.append(args))
    ti = _running({"email": "x@example.com"})
    with django_capture_on_commit_callbacks(execute=True):
        do_finish_try(ti.id, 1, state="success")
    assert composed == []


def test_a_zombie_found_by_the_scheduler_is_emailed_too(inbox, django_capture_on_commit_callbacks):
    from django.utils import timezone

    ti = _running({"email": "ops@example.com"})
    with django_capture_on_commit_callbacks(execute=True):
        assert fail_try_from_outside(ti, "The runner stopped heartbeating.", timezone.now()) == 1
    wait_for(lambda: inbox.messages, "the zombie's failure email")
    assert "The runner stopped heartbeating." in inbox.messages[0][1].get_content()


def test_a_refusing_smtp_server_is_logged_and_the_task_state_stands(
    orch_settings, tmp_path, caplog, django_capture_on_commit_callbacks
):
    orch_settings.log_dir = tmp_path / "logs"
    controller = _serve(Inbox(refuse=True), orch_settings)
    try:
        ti = _running({"email": "ops@example.com"})
        with caplog.at_level(logging.ERROR, logger="dagruns.actions.task_email"):
            with django_capture_on_commit_callbacks(execute=True):
                do_finish_try(ti.id, 1, state="failed")
            record = wait_for(
                lambda: [r for r in caplog.records if "Could not send" in r.getMessage()],
                "the logged SMTP refusal",
            )[0]
    finally:
        controller.stop()
    message = record.getMessage()
    assert "task extract of DAG etl" in message and "ops@example.com" in message
    assert "refused by policy" in message
    assert TaskInstance.objects.get(pk=ti.pk).state == "failed"


def test_no_smtp_server_listening_is_logged_and_the_task_state_stands(
    orch_settings, tmp_path, caplog, django_capture_on_commit_callbacks
):
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.smtp_host, orch_settings.smtp_port = "127.0.0.1", _free_port()
    orch_settings.smtp_starttls = False
    ti = _running({"email": "ops@example.com"})
    with caplog.at_level(logging.ERROR, logger="dagruns.actions.task_email"):
        with django_capture_on_commit_callbacks(execute=True):
            do_finish_try(ti.id, 1, state="failed")
        wait_for(
            lambda: [r for r in caplog.records if "ConnectionRefusedError" in r.getMessage()],
            "the logged connection failure",
        )
    assert TaskInstance.objects.get(pk=ti.pk).state == "failed"


def test_addresses_are_split_as_airflow_splits_them():
    assert addresses("a@x.org, b@x.org;c@x.org") == ["a@x.org", "b@x.org", "c@x.org"]
    assert addresses(["a@x.org", "b@x.org"]) == ["a@x.org", "b@x.org"]
    assert addresses(None) == [] and addresses("") == []
