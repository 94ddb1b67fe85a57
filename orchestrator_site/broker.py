"""Where the Celery broker is, in one place for every process that needs it: the Celery
executor, the worker, beat, the cluster command and the pages that count live workers
(dagruns/domain/workers.py).

It imports no Celery and no Django: the API server counts workers through it without loading
the Celery app (orchestrator_site/celery.py builds one at import), and a worker reads it
without Django.
"""

from __future__ import annotations

from kombu.utils.url import maybe_sanitize_url

from orchestrator_site.config import OrchSettings, SettingError, load_settings

SUPPORTED_SCHEMES = ("redis://", "rediss://", "unix://")


def configured_broker_url(orch: OrchSettings) -> str:
    """ORCH_CELERY_BROKER_URL, defaulting to ORCH_REDIS_URL; empty when neither is set."""
    return orch.celery_broker_url or orch.redis_url or ""


def broker_variable(orch: OrchSettings) -> str:
    """The variable the broker's URL comes from, for messages that tell what to fix."""
    return "ORCH_CELERY_BROKER_URL" if orch.celery_broker_url else "ORCH_REDIS_URL"


def broker_url(orch: OrchSettings | None = None) -> str:
    """The broker's URL; a SettingError naming both variables when neither is set, and the
    variable when it names a broker other than Redis."""
    orch = orch or load_settings()
    url = configured_broker_url(orch)
    if not url:
        raise SettingError(
            "the Celery executor needs a broker: set ORCH_CELERY_BROKER_URL "
            "(or ORCH_REDIS_URL, its default), e.g. redis://127.0.0.1:6379/0"
        )
    if not url.startswith(SUPPORTED_SCHEMES):
        raise SettingError(
            f"{broker_variable(orch)}={safe_url(url)!r}: only Redis is supported "
            "(redis://host:port/db, rediss:// or unix://)"
        )
    return url


def safe_url(url: str) -> str:
    """`url` without its password, for messages and logs."""
    return str(maybe_sanitize_url(url))
