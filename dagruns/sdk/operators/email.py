"""EmailOperator: Airflow's SMTP provider operator (`airflow.providers.smtp.operators.smtp`,
Airflow 2's `airflow.operators.email`), sending through `SmtpHook` and its connection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..baseoperator import BaseOperator
from ..exceptions import AirflowException
from ..smtp_hook import SmtpHook


class EmailOperator(BaseOperator):
    """Sends an email. `to`, `from_email`, `subject`, `html_content`, `files`, `cc` and `bcc`
    are templated; `html_content` may name a `.html` template file. A missing `from_email`,
    `subject` or `html_content` comes from the connection's extra (`from_email`,
    `subject_template`, `html_content_template`), rendered like the argument would be."""

    template_fields: Sequence[str] = (
        "to",
        "from_email",
        "subject",
        "html_content",
        "files",
        "cc",
        "bcc",
    )
    template_fields_renderers = {"html_content": "html"}
    template_ext: Sequence[str] = (".html",)
    ui_color = "#e6faf9"

    def __init__(
        self,
        *,
        to: list[str] | str,
        subject: str | None = None,
        html_content: str | None = None,
        from_email: str | None = None,
        files: list[str] | None = None,
        cc: list[str] | str | None = None,
        bcc: list[str] | str | None = None,
        mime_subtype: str = "mixed",
        mime_charset: str = "utf-8",
        conn_id: str = "smtp_default",
        custom_headers: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.to = to
        self.subject = subject
        self.html_content = html_content
        self.from_email = from_email
        self.files = files or []
        self.cc = cc
        self.bcc = bcc
        self.mime_subtype = mime_subtype
        self.mime_charset = mime_charset
        self.conn_id = conn_id
        self.custom_headers = custom_headers

    @staticmethod
    def _read_template(template_path: str) -> str:
        # Airflow joins a template file's lines (it becomes one header or one body).
        return Path(template_path).read_text().replace("\n", "").strip()

    def execute(self, context: Mapping[str, Any]) -> None:
        with SmtpHook(smtp_conn_id=self.conn_id) as hook:
            to_render = []
            if self.from_email is None:
                if hook.from_email is None:
                    raise AirflowException(
                        "You should provide `from_email` or define it in the connection."
                    )
                self.from_email = hook.from_email
                to_render.append("from_email")
            if self.subject is None:
                if hook.subject_template is None:
                    raise AirflowException(
                        "You should provide `subject` or define `subject_template` in the "
                        "connection."
                    )
                self.subject = self._read_template(hook.subject_template)
                to_render.append("subject")
            if self.html_content is None:
                if hook.html_content_template is None:
                    raise AirflowException(
                        "You should provide `html_content` or define `html_content_template` "
                        "in the connection."
                    )
                self.html_content = self._read_template(hook.html_content_template)
                to_render.append("html_content")
            env = self.get_template_env()
            for field in to_render:
                setattr(self, field, self.render_template(getattr(self, field), context, env))
            hook.send_email_smtp(
                to=self.to,
                subject=self.subject,
                html_content=self.html_content,
                from_email=self.from_email,
                files=self.files,
                cc=self.cc,
                bcc=self.bcc,
                mime_subtype=self.mime_subtype,
                mime_charset=self.mime_charset,
                custom_headers=self.custom_headers,
            )
