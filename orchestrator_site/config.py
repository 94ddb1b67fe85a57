"""Reading `ORCH_*` environment variables with types and clear errors.

Every setting of the orchestrator comes from one prefix so that a deployment is described by
its environment alone. A malformed value stops start-up with a message naming the variable,
never with a traceback from deep inside Django.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PREFIX = "ORCH_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(PREFIX + name, default)


def env_optional(name: str) -> str | None:
    value = os.environ.get(PREFIX + name)
    return value if value else None


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(PREFIX + name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{PREFIX}{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{PREFIX}{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{PREFIX}{name}={value} must be at least {minimum}")
    return value


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = os.environ.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{PREFIX}{name}={raw!r} is not a number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{PREFIX}{name}={value} must be at least {minimum}")
    return value


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(PREFIX + name)
    return Path(raw).expanduser().resolve() if raw else default


def persistent_secret(path: Path) -> str:
    """A random secret kept in a file, so the embedded default needs no configuration yet
    keeps sessions and encrypted connections valid across restarts."""
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        value = secrets.token_urlsafe(50)
        # O_EXCL: two processes starting at once must agree on one secret.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return value
