"""The Celery application (`celery -A orchestrator_site worker` finds it here).

Django-free on purpose: a Celery worker runs task runners and talks only to the broker and the
Execution API (the seed's security rule: no database, no credentials for it), so importing this
app must not import Django, the ORM or our settings module. Its configuration comes from the
same `ORCH_*` environment through `orchestrator_site.config`, which imports no Django either.

The broker is `ORCH_CELERY_BROKER_URL`, defaulting to `ORCH_REDIS_URL`.
"""

from __future__ import annotations

from celery import Celery

from orchestrator_site.config import OrchSettings, SettingError, load_settings


def broker_url(orch: OrchSettings | None = None) -> str:
    """The broker's URL; a SettingError naming both variables when neither is set."""
    orch = orch or load_settings()
    url = orch.celery_broker_url or orch.redis_url
    if not url:
        raise SettingError(
            "the Celery executor needs a broker: set ORCH_CELERY_BROKER_URL "
            "(or ORCH_REDIS_URL, its default), e.g. redis://127.0.0.1:6379/0"
        )
    return url


def make_app(orch: OrchSettings | None = None) -> Celery:
    orch = orch or load_settings()
    celery_app = Celery("orchestrator")
    celery_app.conf.update(
        broker_url=orch.celery_broker_url or orch.redis_url,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        timezone="UTC",
        enable_utc=True,
    )
    return celery_app


app = make_app()
