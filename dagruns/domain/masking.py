"""The server's secrets masker: what people see of values that come from tasks.

XCom values, rendered template fields and notes are shown in pages and the REST API. A task may
have put a secret in any of them (a return value built from a connection password), and the
server cannot know which values the task fetched, so it masks every value that is a secret
anywhere: each variable whose key is sensitive, each connection password and each connection
extra entry under a sensitive name. The rule and the matching (variants, minimum length) are the
task runner's log masker's (dagruns.sdk.masking.SecretsMasker), so a value hidden in a log is
hidden next to it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from dagruns.domain.crypto import DecryptionError
from dagruns.models import Connection, Variable
from dagruns.sdk.masking import SecretsMasker, is_sensitive_name

# One masker per request (see masking_scope): a page or a list answer masks many values, and
# building the masker decrypts every secret. Never kept longer: secrets change at any time and
# a copy in one replica's memory would go stale.
_scope: ContextVar[dict[str, SecretsMasker] | None] = ContextVar("orch_masker_scope", default=None)


@contextmanager
def masking_scope() -> Iterator[None]:
    """Within this block server_masker() is built once and reused (the request middleware)."""
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def server_masker() -> SecretsMasker:
    """A masker that knows every secret stored in the database right now."""
    scope = _scope.get()
    if scope is not None and "masker" in scope:
        return scope["masker"]
    masker = _build_masker()
    if scope is not None:
        scope["masker"] = masker
    return masker


def _build_masker() -> SecretsMasker:
    masker = SecretsMasker()
    for variable in Variable.objects.only("key", "encrypted_val"):
        if not is_sensitive_name(variable.key):
            continue
        try:
            masker.add_variable(variable.key, variable.val)
        except DecryptionError:
            continue  # unreadable with the current keys: it cannot leak through a task either
    for connection in Connection.objects.only("encrypted_password", "encrypted_extra"):
        try:
            masker.add_connection({"password": connection.password, "extra": connection.extra})
        except DecryptionError:
            continue
    return masker


def masked(value: Any) -> Any:
    """A copy of a JSON-like value fit to show a person: secrets replaced by ***, and values
    under sensitive names (a dict's "password" entry) too."""
    if not value or isinstance(value, bool | int | float):
        return value  # nothing to hide (None, "", {}, [], numbers): no masker to build for it
    return server_masker().redact(value)
