"""The running configuration as people and Airflow's `/api/v2/config` see it: every declared
`ORCH_*` setting (orchestrator_site.config) with its current value, where the value came from
and what it means, grouped into Airflow's configuration sections.

Sections: Airflow's `airflow.cfg` has sections and options; we have one flat list of
environment variables. Each setting goes to the Airflow section that holds its Airflow
counterpart (`ORCH_PARALLELISM` → `[core] parallelism`, `ORCH_SMTP_HOST` → `[smtp] smtp_host`),
by the rules in `SECTION_RULES` (first match wins), else `[core]`. The option's key is the
setting's name without the prefix, lower-case; `env_var` names the variable that sets it.

Values of settings declared `sensitive` are never shown: Airflow's `< hidden >` stands in.
Whether the configuration is shown at all is `ORCH_EXPOSE_CONFIG` (Airflow's `[api]
expose_config`), checked by the surfaces with `exposed()`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from orchestrator_site.config import OrchSettings, env_name, is_sensitive
from orchestrator_site.config_table import spell

HIDDEN = "< hidden >"
# Airflow's words for where a value came from (`airflow config list --include-sources`).
SOURCE_ENV = "env var"
SOURCE_DEFAULT = "default"

# (name prefix or exact name, section). Ordered: the first matching rule wins.
SECTION_RULES: tuple[tuple[str, str], ...] = (
    ("database_url", "database"),
    ("db_", "database"),
    ("sqlite_", "database"),
    ("dag_processor_", "dag_processor"),
    ("dag_file_processor_", "dag_processor"),
    ("dag_ignore_file_syntax", "core"),
    ("kubernetes_", "kubernetes_executor"),
    ("celery_", "celery"),
    ("redis_url", "celery"),
    ("task_queued_resends", "celery"),
    ("smtp_", "smtp"),
    ("scheduler_", "scheduler"),
    ("task_heartbeat_timeout", "scheduler"),
    ("task_queued_timeout", "scheduler"),
    ("create_cron_data_intervals", "scheduler"),
    ("triggerer_", "triggerer"),
    ("task_heartbeat_interval", "workers"),
    ("task_report_retry_timeout", "workers"),
    ("virtualenv_cache_dir", "workers"),
    ("api_url", "core"),
    ("api_", "api"),
    ("execution_api_", "execution_api"),
    ("request_body_max_size", "api"),
    ("expose_config", "api"),
    ("login_", "api_auth"),
    ("csp", "api"),
    ("allowed_hosts", "api"),
    ("csrf_trusted_origins", "api"),
    ("log_", "logging"),
    ("secret_key", "api"),
    ("retention_days", "database"),
)
DEFAULT_SECTION = "core"


def section_of(name: str) -> str:
    """The Airflow configuration section the setting `name` belongs to."""
    for rule, section in SECTION_RULES:
        if name == rule or (rule.endswith("_") and name.startswith(rule)):
            return section
    return DEFAULT_SECTION


@dataclass(frozen=True)
class Option:
    """One setting as shown: Airflow's section and key, our variable, value and source."""

    section: str
    key: str
    env_var: str
    value: str
    source: str
    meaning: str
    sensitive: bool


def options(
    current: OrchSettings | None = None, environ: Mapping[str, str] = os.environ
) -> list[Option]:
    """Every declared setting, in declaration order, sensitive values masked. `current`
    (default: this process's `settings.ORCH`) gives the values in effect."""
    current = current if current is not None else settings.ORCH
    rows = []
    for name, field in OrchSettings.model_fields.items():
        variable = env_name(name)
        sensitive = is_sensitive(name)
        value: Any = getattr(current, name)
        rows.append(
            Option(
                section=section_of(name),
                key=name,
                env_var=variable,
                value=HIDDEN if sensitive else spell(value),
                source=SOURCE_ENV if environ.get(variable) else SOURCE_DEFAULT,
                meaning=field.description or "",
                sensitive=sensitive,
            )
        )
    return rows


def sections(rows: list[Option]) -> dict[str, list[Option]]:
    """The options grouped by section, sections in the order they first appear."""
    grouped: dict[str, list[Option]] = {}
    for row in rows:
        grouped.setdefault(row.section, []).append(row)
    return grouped


def exposed() -> bool:
    """ORCH_EXPOSE_CONFIG: may the configuration be shown at all?"""
    return settings.ORCH.expose_config != "False"


# Airflow's 403 detail, word for word (its UI shows it too).
NOT_EXPOSED = (
    "Your Airflow administrator chose not to expose the configuration, most likely for "
    "security reasons."
)
