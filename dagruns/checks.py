"""`manage.py check --deploy` warnings for defaults that are fine on a laptop, not in production."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def orchestrator_deploy_checks(app_configs, **kwargs):
    warnings = []
    if not settings.ORCH.fernet_key:
        warnings.append(
            Warning(
                "ORCH_FERNET_KEY is not set: connection and variable secrets are encrypted with a "
                "key derived from the secret key, so rotating one rotates both.",
                hint="Set ORCH_FERNET_KEY to a key from cryptography.fernet.Fernet.generate_key().",
                id="orchestrator.W001",
            )
        )
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        warnings.append(
            Warning(
                "The metadata database is SQLite: fine for one host, but several schedulers, "
                "Celery workers on other hosts and heavy UI use need PostgreSQL.",
                hint="Set ORCH_DATABASE_URL=postgresql://…",
                id="orchestrator.W002",
            )
        )
    if settings.ALLOWED_HOSTS == ["*"]:
        warnings.append(
            Warning(
                "ORCH_ALLOWED_HOSTS allows any host name.",
                hint="Set ORCH_ALLOWED_HOSTS to the names the API server is reached by.",
                id="orchestrator.W003",
            )
        )
    return warnings
