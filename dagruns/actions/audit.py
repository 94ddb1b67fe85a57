"""Writing the audit log: who did what, when, to which DAG, run or task."""

from __future__ import annotations

from typing import Any

from dagruns.models import AuditEvent

SYSTEM_ACTOR = "system"
CLI_PREFIX = "cli:"


class Actor:
    """Who is acting: a signed-in user, or a named non-human source (cli, scheduler)."""

    def __init__(self, user=None, name: str | None = None) -> None:
        self.user = user if user is not None and getattr(user, "pk", None) else None
        self.name = name or (user.get_username() if self.user else SYSTEM_ACTOR)

    @classmethod
    def cli(cls) -> Actor:
        import getpass

        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
        return cls(name=f"{CLI_PREFIX}{who}")

    @property
    def person(self) -> str | None:
        """The human behind the action: a signed-in user's name, the OS user running a CLI
        command; None for the scheduler, a task or another non-human source."""
        if self.user is not None:
            return self.name
        if self.name.startswith(CLI_PREFIX):
            return self.name[len(CLI_PREFIX) :]
        return None

    def __repr__(self) -> str:
        return f"Actor({self.name})"


def record(actor: Actor, event: str, *, dag_id: str = "", **fields: Any) -> AuditEvent:
    entry = audit_entry(actor, event, dag_id=dag_id, **fields)
    entry.save(force_insert=True)
    return entry


def audit_entry(actor: Actor, event: str, *, dag_id: str = "", **fields: Any) -> AuditEvent:
    """The row `record` writes, unsaved: for callers that write many at once (bulk_create)."""
    extra = fields.pop("extra", {}) or {}
    return AuditEvent(
        event=event, user=actor.user, owner=actor.name, dag_id=dag_id, extra=extra, **fields
    )
