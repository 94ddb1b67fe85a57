"""EmailOperator: Airflow's templated fields, rendered before it sends; what is missing comes
from the connection's extra (from_email, subject_template, html_content_template), rendered
too; sent through SmtpHook to a real local SMTP server."""

from __future__ import annotations

import json

import pytest

from dagruns.sdk.exceptions import AirflowException
from dagruns.sdk.operators.email import EmailOperator
from tests.smtp_inbox import serving_inbox

CONTEXT = {"ds": "2024-01-01", "params": {"team": "data"}}


@pytest.fixture
def inbox(task_runtime):
    with serving_inbox() as (box, port):
        task_runtime.connections["mail_out"] = {
            "conn_id": "mail_out",
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": json.dumps({"disable_ssl": True, "disable_tls": True}),
        }
        yield box


def _run(task: EmailOperator) -> None:
    task.render_template_fields(CONTEXT)
    task.execute(CONTEXT)


def test_its_templated_fields_are_airflows():
    assert EmailOperator.template_fields == (
        "to",
        "from_email",
        "subject",
        "html_content",
        "files",
        "cc",
        "bcc",
    )
    assert EmailOperator.template_ext == (".html",)


def test_templated_arguments_are_rendered_and_sent(inbox, tmp_path):
    (tmp_path / "out_2024-01-01.txt").write_text("rows: 3")
    _run(
        EmailOperator(
            task_id="notify",
            conn_id="mail_out",
            to="{{ params.team }}@example.com",
            cc="lead@example.com",
            bcc=["audit@example.com"],
            from_email="etl+{{ ds }}@example.com",
            subject="Load of {{ ds }}",
            html_content="<p>{{ params.team }} done</p>",
            files=[str(tmp_path / "out_{{ ds }}.txt")],
        )
    )

    ((recipients, message),) = inbox.received
    assert recipients == ["data@example.com", "lead@example.com", "audit@example.com"]
    assert message["From"] == "etl+2024-01-01@example.com"
    assert message["Subject"] == "Load of 2024-01-01"
    assert "<p>data done</p>" in message.get_body(preferencelist=("html",)).get_content()
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "out_2024-01-01.txt"


def test_subject_body_and_sender_from_the_connection_are_rendered(inbox, task_runtime, tmp_path):
    subject = tmp_path / "subject.jinja2"
    subject.write_text("Run\n {{ ds }}\n")
    body = tmp_path / "body.html"
    body.write_text("<b>{{ params.team }}</b>")
    task_runtime.connections["mail_out"]["extra"] = json.dumps(
        {
            "disable_ssl": True,
            "disable_tls": True,
            "from_email": "{{ params.team }}@example.com",
            "subject_template": str(subject),
            "html_content_template": str(body),
        }
    )

    _run(EmailOperator(task_id="notify", conn_id="mail_out", to="x@example.com"))

    ((_, message),) = inbox.received
    assert message["From"] == "data@example.com"
    assert message["Subject"] == "Run 2024-01-01"  # Airflow joins the file's lines
    assert "<b>data</b>" in message.get_body(preferencelist=("html",)).get_content()


def test_no_subject_anywhere_fails_naming_what_is_missing(inbox):
    task = EmailOperator(
        task_id="notify", conn_id="mail_out", to="x@example.com", from_email="a@example.com"
    )
    with pytest.raises(AirflowException, match="provide `subject` or define `subject_template`"):
        _run(task)
    assert inbox.received == []


def test_an_unknown_argument_is_refused_by_name():
    with pytest.raises(Exception, match="smtp_conn_id"):
        EmailOperator(task_id="notify", to="x@example.com", smtp_conn_id="mail_out")
