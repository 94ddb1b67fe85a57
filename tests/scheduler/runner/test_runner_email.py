"""EmailOperator in a real task process: the SMTP server, login and password come from the
smtp connection, fetched through the Execution API (the task process has no database and no
server settings), and the mail reaches a real local SMTP server."""

from __future__ import annotations

import json

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.connections import do_create_connection
from scheduler.runner.supervisor import EXIT_OK
from tests.smtp_inbox import serving_inbox

pytestmark = pytest.mark.slow

DAG_FILE = """
from datetime import datetime
from pathlib import Path
from airflow.providers.smtp.operators.smtp import EmailOperator
from airflow.sdk import DAG

ATTACHMENT = Path(__file__).with_name("summary_{{ ds }}.txt")

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    EmailOperator(
        task_id="notify",
        conn_id="mail_out",
        to=["ops@example.com", "{{ dag_run.conf['owner'] }}@example.com"],
        cc="lead@example.com",
        bcc="audit@example.com",
        subject="{{ dag.dag_id }} finished for {{ ds }}",
        html_content="<p>Run <b>{{ run_id }}</b> is done.</p>",
        files=[str(ATTACHMENT)],
    )
"""


def test_the_operator_sends_through_the_connection_from_a_task_process(make_try, dags_dir):
    (dags_dir / "summary_2024-01-01.txt").write_text("42 rows loaded\n")
    with serving_inbox() as (inbox, port):
        do_create_connection(
            "mail_out",
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": port,
                "login": "mailer",
                "password": "pw-for-smtp",
                "extra": json.dumps(
                    {"disable_ssl": True, "disable_tls": True, "from_email": "etl@example.com"}
                ),
            },
            Actor(name="tester"),
        )
        t = make_try(DAG_FILE, "notify", conf={"owner": "maria"})

        result = t.run()

    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "success", t.log()
    ((recipients, message),) = inbox.received
    assert recipients == [
        "ops@example.com",
        "maria@example.com",
        "lead@example.com",
        "audit@example.com",
    ]
    assert message["To"] == "ops@example.com, maria@example.com"
    assert message["CC"] == "lead@example.com"
    assert message["Bcc"] is None
    assert message["From"] == "etl@example.com"
    assert message["Subject"] == "runner_test finished for 2024-01-01"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<p>Run <b>scheduled__2024-01-01T00:00:00+00:00</b> is done.</p>" in html
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "summary_2024-01-01.txt"
    assert attachment.get_content() == b"42 rows loaded\n"
    assert inbox.logins == [("mailer", "pw-for-smtp")]
    assert "pw-for-smtp" not in t.log()


def test_a_missing_connection_fails_the_task_naming_the_conn_id(make_try):
    t = make_try(DAG_FILE, "notify", conf={"owner": "maria"})

    result = t.run()

    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "failed"
    log = t.log()
    assert "SMTP connection is not found." in log
    assert "mail_out" in log
