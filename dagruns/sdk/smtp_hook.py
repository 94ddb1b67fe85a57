"""`SmtpHook`: Airflow's SMTP provider hook (`airflow.providers.smtp.hooks.smtp`), task-side.

The mail server comes from the connection `smtp_conn_id` (default `smtp_default`), fetched like
every connection a task reads: through the runtime (the Execution API), never from server
settings. Host, port, login and password are the connection's; its extra holds Airflow's keys
`from_email`, `disable_ssl`, `disable_tls`, `timeout`, `retry_limit`, `ssl_context`,
`subject_template` and `html_content_template`, read with Airflow's defaults (SSL on, STARTTLS
on, 30 s, 5 attempts).
"""

from __future__ import annotations

import collections.abc
import re
import smtplib
import ssl
from collections.abc import Iterable
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate
from pathlib import Path
from types import TracebackType
from typing import Any

from .base_hook import BaseHook
from .connection import Connection
from .exceptions import AirflowException, AirflowNotFoundException

# Airflow's extra keys of an smtp connection; anything else in the extra is refused by name
# (nothing accepted may be ignored).
EXTRA_KEYS = frozenset(
    {
        "from_email",
        "disable_ssl",
        "disable_tls",
        "timeout",
        "retry_limit",
        "ssl_context",
        "subject_template",
        "html_content_template",
    }
)
ADDRESS_SEPARATORS = re.compile(r"\s*[,;]\s*")


def email_address_list(addresses: str | Iterable[str]) -> list[str]:
    """Airflow's rule: a string splits on ',' or ';'; an iterable must hold strings."""
    if isinstance(addresses, str):
        return ADDRESS_SEPARATORS.split(addresses)
    if isinstance(addresses, collections.abc.Iterable):
        items = list(addresses)
        if not all(isinstance(item, str) for item in items):
            raise TypeError("The items in your iterable must be strings.")
        return items
    raise TypeError(f"Unexpected argument type: Received '{type(addresses).__name__}'.")


_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


def _flag(value: Any) -> bool:
    # The connection form stores booleans; a hand-written extra may hold "true"/"false". Other
    # words are refused by _check_extra (Airflow's bool() would take "false" as true).
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_WORDS
    return bool(value)


class SmtpHook(BaseHook):
    """Connects to a mail server over SMTP; use it as a context manager (`with SmtpHook() as
    hook: hook.send_email_smtp(...)`) so the connection to the server is closed."""

    conn_name_attr = "smtp_conn_id"
    default_conn_name = "smtp_default"
    conn_type = "smtp"
    hook_name = "SMTP"

    def __init__(self, smtp_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.smtp_conn_id = smtp_conn_id
        self.smtp_connection: Connection | None = None
        self.smtp_client: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpHook:
        return self.get_conn()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if self.smtp_client is not None:
            self.smtp_client.close()
            self.smtp_client = None

    def get_conn(self) -> SmtpHook:
        """Connect and log in (once); Airflow retries a server that hangs up `retry_limit`
        times."""
        if self.smtp_client is None:
            try:
                self.smtp_connection = self.get_connection(self.smtp_conn_id)
            except AirflowNotFoundException as exc:
                # Airflow's message, plus the conn_id it looked for.
                raise AirflowException(f"SMTP connection is not found. {exc}") from exc
            self._check_extra()
            for attempt in range(1, self.smtp_retry_limit + 1):
                try:
                    client = self._build_client()
                except smtplib.SMTPServerDisconnected:
                    if attempt == self.smtp_retry_limit:
                        raise AirflowException("Unable to connect to smtp server") from None
                else:
                    if self.smtp_starttls:
                        client.starttls()
                    if self.smtp_user and self.smtp_password:
                        client.login(self.smtp_user, self.smtp_password)
                    self.smtp_client = client
                    break
        return self

    def _check_extra(self) -> None:
        extra = self.conn.extra_dejson
        where = f"Connection {self.smtp_conn_id!r} (smtp)"
        unknown = sorted(set(extra) - EXTRA_KEYS)
        if unknown:
            raise AirflowException(
                f"{where}: unknown extra key(s) {', '.join(unknown)}; an smtp connection's "
                f"extra takes {', '.join(sorted(EXTRA_KEYS))}"
            )
        for key in ("disable_ssl", "disable_tls"):
            value = extra.get(key, False)
            if isinstance(value, str) and value.strip().lower() not in _TRUE_WORDS | _FALSE_WORDS:
                raise AirflowException(f"{where}: extra {key}={value!r} is not true or false")
        for key in ("retry_limit", "timeout"):
            value = extra.get(key)
            if value is None:
                continue
            try:
                number = int(value)
            except (TypeError, ValueError):
                number = 0
            if isinstance(value, bool) or number < 1:
                raise AirflowException(
                    f"{where}: extra {key}={value!r} must be a whole number >= 1"
                )
        if not self.conn.host:
            raise AirflowException(f"{where}: no host: the connection names no mail server")

    def _build_client(self) -> smtplib.SMTP:
        kwargs: dict[str, Any] = {"host": self.host or "", "timeout": self.timeout}
        if self.port:
            kwargs["port"] = self.port
        if not self.use_ssl:
            return smtplib.SMTP(**kwargs)
        choice = self.ssl_context
        if choice is None or choice == "default":
            context: ssl.SSLContext | None = ssl.create_default_context()
        elif choice == "none":
            context = None
        else:
            raise RuntimeError(
                "The connection extra field `ssl_context` must be set to 'default' or 'none' "
                f"but it is set to '{choice}'."
            )
        return smtplib.SMTP_SSL(context=context, **kwargs)

    def test_connection(self) -> tuple[bool, str]:
        """Airflow's test: connect, log in, NOOP."""
        try:
            client = self.get_conn().smtp_client
            if client is not None and client.noop()[0] == 250:
                return True, "Connection successfully tested"
        except Exception as exc:
            return False, str(exc)
        finally:
            self.__exit__(None, None, None)
        return False, "Failed to establish connection"

    def send_email_smtp(
        self,
        *,
        to: str | Iterable[str],
        subject: str | None = None,
        html_content: str | None = None,
        from_email: str | None = None,
        files: list[str] | None = None,
        dryrun: bool = False,
        cc: str | Iterable[str] | None = None,
        bcc: str | Iterable[str] | None = None,
        mime_subtype: str = "mixed",
        mime_charset: str = "utf-8",
        custom_headers: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Send an HTML email (bcc recipients get it without a header naming them). Airflow
        accepts and drops further keyword arguments here (its operator passes `conn_id`): so
        do we for `conn_id`; any other is refused by name."""
        kwargs.pop("conn_id", None)
        if kwargs:
            raise TypeError(
                f"SmtpHook.send_email_smtp got unexpected argument(s) {', '.join(sorted(kwargs))}"
            )
        if self.smtp_client is None:
            raise AirflowException("The 'smtp_client' should be initialized before!")
        from_email = from_email or self.from_email
        if not from_email:
            raise AirflowException(
                "You should provide `from_email` or define it in the connection."
            )
        if not subject:
            if self.subject_template is None:
                raise AirflowException(
                    "You should provide `subject` or define `subject_template` in the connection."
                )
            subject = self._read_template(self.subject_template)
        if not html_content:
            if self.html_content_template is None:
                raise AirflowException(
                    "You should provide `html_content` or define `html_content_template` in "
                    "the connection."
                )
            html_content = self._read_template(self.html_content_template)
        message, recipients = build_mime_message(
            mail_from=from_email,
            to=to,
            subject=subject,
            html_content=html_content,
            files=files,
            cc=cc,
            bcc=bcc,
            mime_subtype=mime_subtype,
            mime_charset=mime_charset,
            custom_headers=custom_headers,
        )
        if dryrun:
            return
        for attempt in range(1, self.smtp_retry_limit + 1):
            try:
                self.smtp_client.sendmail(
                    from_addr=from_email, to_addrs=recipients, msg=message.as_string()
                )
            except smtplib.SMTPServerDisconnected:
                if attempt == self.smtp_retry_limit:
                    raise
            else:
                break

    @staticmethod
    def _read_template(template_path: str) -> str:
        return Path(template_path).read_text()

    @property
    def conn(self) -> Connection:
        if self.smtp_connection is None:
            raise AirflowException("The smtp connection should be loaded before!")
        return self.smtp_connection

    @property
    def smtp_retry_limit(self) -> int:
        return int(self.conn.extra_dejson.get("retry_limit", 5))

    @property
    def from_email(self) -> str | None:
        return self.conn.extra_dejson.get("from_email")

    @property
    def smtp_user(self) -> str | None:
        return self.conn.login

    @property
    def smtp_password(self) -> str | None:
        return self.conn.password

    @property
    def smtp_starttls(self) -> bool:
        return not _flag(self.conn.extra_dejson.get("disable_tls", False))

    @property
    def host(self) -> str | None:
        return self.conn.host

    @property
    def port(self) -> int | None:
        return self.conn.port

    @property
    def timeout(self) -> int:
        return int(self.conn.extra_dejson.get("timeout", 30))

    @property
    def use_ssl(self) -> bool:
        return not _flag(self.conn.extra_dejson.get("disable_ssl", False))

    @property
    def subject_template(self) -> str | None:
        return self.conn.extra_dejson.get("subject_template")

    @property
    def html_content_template(self) -> str | None:
        return self.conn.extra_dejson.get("html_content_template")

    @property
    def ssl_context(self) -> str | None:
        return self.conn.extra_dejson.get("ssl_context")


def build_mime_message(
    mail_from: str | None,
    to: str | Iterable[str],
    subject: str,
    html_content: str,
    files: list[str] | None = None,
    cc: str | Iterable[str] | None = None,
    bcc: str | Iterable[str] | None = None,
    mime_subtype: str = "mixed",
    mime_charset: str = "utf-8",
    custom_headers: dict[str, Any] | None = None,
) -> tuple[MIMEMultipart, list[str]]:
    """The message and every recipient (to, cc, bcc), as Airflow builds them: bcc is not a
    header; each file is an attachment named by its base name."""
    recipients = email_address_list(to)
    message = MIMEMultipart(mime_subtype)
    message["Subject"] = subject
    if mail_from:
        message["From"] = mail_from
    message["To"] = ", ".join(recipients)
    if cc:
        cc_list = email_address_list(cc)
        message["CC"] = ", ".join(cc_list)
        recipients += cc_list
    if bcc:
        recipients += email_address_list(bcc)
    message["Date"] = formatdate(localtime=True)
    message.attach(MIMEText(html_content, "html", mime_charset))
    for name in files or []:
        path = Path(name)
        part = MIMEApplication(path.read_bytes(), Name=path.name)
        part["Content-Disposition"] = f'attachment; filename="{path.name}"'
        part["Content-ID"] = f"<{path.name}>"
        message.attach(part)
    for key, value in (custom_headers or {}).items():
        message[key] = value
    return message, recipients
