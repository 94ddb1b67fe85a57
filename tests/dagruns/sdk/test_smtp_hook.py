"""`SmtpHook`: the SMTP server and its options come from the smtp connection (fetched through
the task runtime), the message is Airflow's (to/cc headers, bcc only in the envelope, files
attached), against a real local SMTP server."""

from __future__ import annotations

import json

import pytest

from dagruns.sdk import BaseHook
from dagruns.sdk.exceptions import AirflowException
from dagruns.sdk.smtp_hook import SmtpHook, email_address_list
from tests.smtp_inbox import free_port, serving_inbox

PLAIN = {"disable_ssl": True, "disable_tls": True, "from_email": "bot@example.com"}


@pytest.fixture
def inbox(task_runtime):
    """A local SMTP server and the connection `smtp_default` pointing at it."""
    with serving_inbox() as (box, port):
        task_runtime.connections["smtp_default"] = {
            "conn_id": "smtp_default",
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "login": "mailer",
            "password": "s3cret",
            "extra": json.dumps(PLAIN),
        }
        yield box


def test_an_email_reaches_to_cc_and_bcc_with_bcc_left_out_of_the_headers(inbox, tmp_path):
    report = tmp_path / "report.csv"
    report.write_text("a,b\n1,2\n")

    with SmtpHook() as hook:
        hook.send_email_smtp(
            to="a@example.com; b@example.com",
            cc=["c@example.com"],
            bcc="d@example.com",
            subject="Daily report",
            html_content="<h1>Done</h1>",
            files=[str(report)],
            custom_headers={"X-Run": "r1"},
        )

    ((recipients, message),) = inbox.received
    assert recipients == ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]
    assert message["To"] == "a@example.com, b@example.com"
    assert message["CC"] == "c@example.com"
    assert message["Bcc"] is None
    assert message["From"] == "bot@example.com"  # the connection's from_email
    assert message["Subject"] == "Daily report"
    assert message["X-Run"] == "r1"
    body = message.get_body(preferencelist=("html",))
    assert body is not None and body.get_content().strip() == "<h1>Done</h1>"
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "report.csv"
    assert attachment.get_content() == b"a,b\n1,2\n"
    assert inbox.logins == [("mailer", "s3cret")]  # the connection's login and password


def test_a_missing_connection_is_airflows_error_naming_the_conn_id(task_runtime):
    with pytest.raises(AirflowException, match="SMTP connection is not found.*`mail_out`"):
        SmtpHook(smtp_conn_id="mail_out").get_conn()


def test_an_extra_key_airflow_does_not_read_is_refused_by_name(task_runtime):
    task_runtime.connections["smtp_default"] = {
        "conn_id": "smtp_default",
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "extra": json.dumps({"auth_type": "oauth2"}),
    }
    with pytest.raises(AirflowException, match="unknown extra key.*auth_type"):
        SmtpHook().get_conn()


@pytest.mark.parametrize(
    ("connection", "words"),
    [
        ({"host": "127.0.0.1", "extra": json.dumps({"disable_ssl": "disabled"})}, "disable_ssl"),
        ({"host": "127.0.0.1", "extra": json.dumps({"retry_limit": 0})}, "retry_limit=0"),
        ({"host": "127.0.0.1", "extra": json.dumps({"timeout": "soon"})}, "timeout='soon'"),
        ({"extra": json.dumps(PLAIN)}, "no host"),
    ],
)
def test_extra_values_and_a_missing_host_are_refused_naming_them(task_runtime, connection, words):
    task_runtime.connections["smtp_default"] = {
        "conn_id": "smtp_default",
        "conn_type": "smtp",
        **connection,
    }
    with pytest.raises(AirflowException, match=f"'smtp_default' \\(smtp\\).*{words}"):
        SmtpHook().get_conn()


def test_without_from_email_anywhere_the_send_is_refused(inbox, task_runtime):
    task_runtime.connections["smtp_default"]["extra"] = json.dumps(
        {"disable_ssl": True, "disable_tls": True}
    )
    with (
        SmtpHook() as hook,
        pytest.raises(AirflowException, match="provide `from_email`"),
    ):
        hook.send_email_smtp(to="a@example.com", subject="s", html_content="h")
    assert inbox.received == []


def test_airflows_defaults_ssl_and_starttls_on_30_s_5_attempts(task_runtime):
    task_runtime.connections["smtp_default"] = {"conn_id": "smtp_default", "conn_type": "smtp"}
    hook = SmtpHook()
    hook.smtp_connection = hook.get_connection("smtp_default")
    assert (hook.use_ssl, hook.smtp_starttls, hook.timeout, hook.smtp_retry_limit) == (
        True,
        True,
        30,
        5,
    )


def test_get_hook_of_an_smtp_connection_is_the_smtp_hook(task_runtime):
    task_runtime.connections["mail"] = {"conn_id": "mail", "conn_type": "smtp"}
    hook = BaseHook.get_hook("mail")
    assert isinstance(hook, SmtpHook) and hook.smtp_conn_id == "mail"


def test_address_lists_split_as_airflows_and_refuse_non_strings():
    assert email_address_list("a@x.org , b@x.org;c@x.org") == ["a@x.org", "b@x.org", "c@x.org"]
    with pytest.raises(TypeError, match="must be strings"):
        email_address_list(["a@x.org", 3])  # type: ignore[list-item]


def test_test_connection_answers_the_servers_noop_and_says_why_it_failed(inbox, task_runtime):
    assert SmtpHook().test_connection() == (True, "Connection successfully tested")
    task_runtime.connections["smtp_default"]["port"] = free_port()  # nothing listens there
    task_runtime.connections["smtp_default"]["extra"] = json.dumps(
        {"disable_ssl": True, "disable_tls": True, "retry_limit": 1}
    )
    worked, message = SmtpHook().test_connection()
    assert worked is False and "refused" in message.lower()
