"""Airflow's task emails: `email_on_failure` / `email_on_retry` to the task's `email` addresses,
with Airflow's default subject and body, over SMTP through Django's mail (ORCH_SMTP_HOST and the
other settings named after Airflow's [smtp] ones).

Who sends, and why here: the side that records the failure and holds the settings. A try the
runner reports failed is recorded by the API server (dagruns/actions/tries.py); a try found dead
(a zombie, a runner that vanished) by the scheduler (dagruns/actions/failures.py). Both call
`email_on_commit`. Airflow 3 sends from the worker, but our task runner holds no secrets (the
SMTP password never reaches task code or worker hosts), so the email leaves from the API server
or scheduler instead. The exception itself stays in the worker: the body shows the error lines
the try's log ends with (the traceback the runner logged), which the API server has.

Sending happens after the commit, in a thread of its own: the state is recorded whatever the
SMTP server does, and a slow or refusing server (logged, with the task named) never delays the
runner's report or the scheduler's tick. Airflow's rules: no `email` address, nothing is sent;
`email_on_failure` for a try that ends failed, `email_on_retry` for one that will be retried.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.urls import reverse
from jinja2.sandbox import SandboxedEnvironment

from dagruns.domain.logs import ti_log_path
from dagruns.models import TaskInstance, TaskInstanceState

log = logging.getLogger(__name__)

# Airflow's defaults (its TaskInstance.get_email_subject_content).
SUBJECT_TEMPLATE = "Airflow alert: {{ti}}"
HTML_TEMPLATE = (
    "Try {{try_number}} out of {{max_tries + 1}}<br>"
    "Exception:<br>{{exception_html}}<br>"
    'Log: <a href="{{ti.log_url}}">Link</a><br>'
    "Host: {{ti.hostname}}<br>"
    'Mark success: <a href="{{ti.mark_success_url}}">Link</a><br>'
)
# How much of the try's log end the body quotes as "the exception".
ERROR_TAIL_LINES = 60
ERROR_TAIL_BYTES = 64 * 1024
_env = SandboxedEnvironment(autoescape=False)


class EmailTaskInstance:
    """What the templates see as `ti`: Airflow's repr and the URLs it links to."""

    def __init__(self, ti: TaskInstance, state: str) -> None:
        self.dag_id = ti.dag_id
        self.task_id = ti.task_id
        self.run_id = ti.run_id
        self.map_index = ti.map_index
        self.try_number = ti.try_number
        self.hostname = ti.hostname
        self.state = state
        page = settings.ORCH.api_url.rstrip("/") + reverse(
            "ui:task_instance",
            kwargs={"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id},
        )
        self.log_url = f"{page}?try_number={ti.try_number}"
        self.mark_success_url = page

    def __repr__(self) -> str:
        mapped = f" map_index={self.map_index}" if self.map_index >= 0 else ""
        return f"<TaskInstance: {self.dag_id}.{self.task_id} {self.run_id}{mapped} [{self.state}]>"

    __str__ = __repr__


def addresses(value: Any) -> list[str]:
    """Airflow's get_email_address_list: a string split on commas or semicolons, or a list."""
    if not value:
        return []
    items = re.split(r"[,;]", value) if isinstance(value, str) else [str(v) for v in value]
    return [item.strip() for item in items if item.strip()]


def wanted(task: dict[str, Any] | None, state: str) -> list[str]:
    """The recipients of an email for a try that ended in `state`; [] when none is due."""
    if task is None:
        return []
    if state == TaskInstanceState.FAILED and not task.get("email_on_failure", True):
        return []
    if state == TaskInstanceState.UP_FOR_RETRY and not task.get("email_on_retry", True):
        return []
    if state not in (TaskInstanceState.FAILED, TaskInstanceState.UP_FOR_RETRY):
        return []
    return addresses(task.get("email"))


def email_on_commit(ti: TaskInstance, state: str, task: dict[str, Any] | None) -> None:
    """After the caller's transaction commits, email the task's addresses about the try that
    ended in `state` (failed / up_for_retry), when the task asks for it."""
    to = wanted(task, state)
    if not to:
        return
    max_tries = ti.max_tries
    message = _message(ti, state, to, max_tries)
    transaction.on_commit(
        lambda: threading.Thread(
            target=send, args=(message, _what(ti)), name="task-email", daemon=True
        ).start()
    )


def _message(ti: TaskInstance, state: str, to: list[str], max_tries: int) -> EmailMultiAlternatives:
    error = error_tail(ti_log_path(ti))
    context = {
        "ti": EmailTaskInstance(ti, state),
        "try_number": ti.try_number,
        "max_tries": max_tries,
        "exception": error,
        "exception_html": html.escape(error).replace("\n", "<br>"),
    }
    subject = _env.from_string(SUBJECT_TEMPLATE).render(context)
    body = _env.from_string(HTML_TEMPLATE).render(context)
    message = EmailMultiAlternatives(
        subject=subject.replace("\n", " "),
        body=body,
        from_email=settings.ORCH.smtp_mail_from,
        to=to,
    )
    message.content_subtype = "html"  # Airflow sends the body as HTML
    return message


def send(message: EmailMultiAlternatives, what: str) -> bool:
    """Send over the configured SMTP server; a failure is logged, never raised."""
    orch = settings.ORCH
    try:
        connection = get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            host=orch.smtp_host,
            port=orch.smtp_port,
            username=orch.smtp_user or "",
            password=orch.smtp_password or "",
            use_tls=orch.smtp_starttls,
            use_ssl=orch.smtp_ssl,
            timeout=orch.smtp_timeout,
            fail_silently=False,
        )
        message.connection = connection
        message.send()
    except Exception as exc:
        log.error(
            "Could not send the email about %s to %s via %s:%s: %s: %s",
            what,
            ", ".join(message.to),
            orch.smtp_host,
            orch.smtp_port,
            type(exc).__name__,
            exc,
        )
        return False
    log.info("Sent the email about %s to %s", what, ", ".join(message.to))
    return True


def error_tail(path: Path) -> str:
    """The error the try's log ends with: from its last traceback or ERROR line to the end
    (at most ERROR_TAIL_LINES lines); "" when the log has none."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - ERROR_TAIL_BYTES))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = text.splitlines()[-ERROR_TAIL_LINES:]
    starts = [i for i, line in enumerate(lines) if "Traceback" in line or "ERROR" in line]
    return "\n".join(lines[starts[0] :]) if starts else ""


def _what(ti: TaskInstance) -> str:
    mapped = f" [{ti.map_index}]" if ti.map_index >= 0 else ""
    return f"task {ti.task_id}{mapped} of DAG {ti.dag_id} run {ti.run_id} (try {ti.try_number})"
