"""Which of Airflow's configuration keys ``conf`` answers, and from where.

Four kinds of answer, so that what DAG code reads is true of this system:

* `FromSetting`: the key has a counterpart among orchestrator's own settings; the answer is the
  ``ORCH_*`` variable of the process (its declared default when unset), in Airflow's spelling.
* `Fixed`: orchestrator behaves as Airflow's default for this key and has no setting to change
  it (naive dates are UTC, a DAG runs 16 tasks at once by default ...); the answer is that
  default.
* `AirflowDefault`: nothing here acts on the key (remote logging, StatsD, secrets backends we
  do not have); the answer is Airflow's documented default, which describes this system, or an
  ``AIRFLOW__SECTION__KEY`` variable, as Airflow reads it, since only DAG code reads it here.
* `Withheld`: secrets of the deployment (database URL, keys, passwords), which task code never
  receives here; reading one is a "not found", naming why.

Defaults of `FromSetting` keys repeat orchestrator_site.config's declarations (the SDK may not
import it: it runs in task runners without Django); a test keeps the two equal.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Our executors' names in Airflow's spelling (`[core] executor`).
EXECUTOR_CLASSES = {
    "local": "LocalExecutor",
    "celery": "CeleryExecutor",
    "kubernetes": "KubernetesExecutor",
}

# pydantic's lax booleans, which orchestrator_site.config accepts for ORCH_* variables.
TRUE_WORDS = frozenset({"1", "on", "t", "true", "y", "yes"})
FALSE_WORDS = frozenset({"0", "off", "f", "false", "n", "no"})


def orch_home() -> Path:
    """``ORCH_HOME``, else ``./var`` of the installation (orchestrator_site.config's default)."""
    home = os.environ.get("ORCH_HOME")
    if home:
        return Path(home).expanduser().resolve()
    return Path(__file__).resolve().parents[3] / "var"


@dataclass(frozen=True)
class FromSetting:
    """Answered from ``ORCH_<field>``; `default` is its declared default as the variable would
    spell it, `spell` turns either into Airflow's spelling. A setting whose default is unset
    (None) answers `unset`: Airflow's own default for the key, or None (not found), as for
    Airflow's keys without a default."""

    field: str
    default: Callable[[], str | None]
    spell: Callable[[str], str] = str
    unset: str | None = None

    @property
    def env(self) -> str:
        return "ORCH_" + self.field.upper()


@dataclass(frozen=True)
class Fixed:
    value: str
    why: str


@dataclass(frozen=True)
class AirflowDefault:
    value: str


@dataclass(frozen=True)
class Withheld:
    why: str


Answer = FromSetting | Fixed | AirflowDefault | Withheld


def _const(value: str | None) -> Callable[[], str | None]:
    return lambda: value


def _under_home(name: str) -> Callable[[], str]:
    return lambda: str(orch_home() / name)


def _path(value: str) -> str:
    return str(Path(value).expanduser().resolve())


def _boolean(value: str) -> str:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return "True"
    if word in FALSE_WORDS:
        return "False"
    raise ValueError("is not a boolean (use true or false)")


def _executors(value: str) -> str:
    names = [name.strip() for name in value.split(",")]
    unknown = [name for name in names if name not in EXECUTOR_CLASSES]
    if unknown:
        raise ValueError(f"names an unknown executor {unknown[0]!r}")
    return ",".join(EXECUTOR_CLASSES[name] for name in names)


def _image_part(part: int) -> Callable[[str], str]:
    """``repository:tag`` of ORCH_KUBERNETES_WORKER_IMAGE, split as Airflow keeps it (two keys);
    a colon inside a registry's host:port is not the tag's."""

    def spell(image: str) -> str:
        repository, colon, tag = image.rpartition(":")
        if not colon or "/" in tag:
            repository, tag = image, ""
        return (repository, tag)[part]

    return spell


def _execution_api(url: str) -> str:
    return url.rstrip("/") + "/execution/"


def setting(
    field: str, default: str | None, spell: Callable[[str], str] = str, unset: str | None = None
) -> FromSetting:
    return FromSetting(field, _const(default), spell, unset)


DAG_DEFAULT = "a DAG's default (its argument changes it per DAG)"
TASK_DEFAULT = "an operator's default (its argument changes it per task)"
NOT_HERE = "not given to DAG code here: task code never reaches the deployment's secrets"

KEYS: dict[str, dict[str, Answer]] = {
    "core": {
        "dags_folder": FromSetting("dags_folder", _under_home("dags"), _path),
        "plugins_folder": FromSetting("plugins_folder", _under_home("plugins"), _path),
        "executor": setting("executor", "local", _executors),
        "parallelism": setting("parallelism", "32"),
        "load_examples": setting("load_examples", "False", _boolean),
        "dags_are_paused_at_creation": setting("dags_are_paused_at_creation", "True", _boolean),
        "dagbag_import_timeout": setting("dag_file_processor_timeout", "30.0"),
        "dag_ignore_file_syntax": setting("dag_ignore_file_syntax", "glob"),
        "max_map_length": setting("max_map_length", "1024"),
        "execution_api_server_url": setting("api_url", "http://127.0.0.1:8000", _execution_api),
        "default_timezone": Fixed("utc", "naive dates in DAG files are UTC"),
        "max_active_tasks_per_dag": Fixed("16", DAG_DEFAULT),
        "max_active_runs_per_dag": Fixed("16", DAG_DEFAULT),
        "max_consecutive_failed_dag_runs_per_dag": Fixed("0", DAG_DEFAULT),
        "default_task_retries": Fixed("0", TASK_DEFAULT),
        "default_task_retry_delay": Fixed("300", TASK_DEFAULT),
        "default_task_weight_rule": Fixed("downstream", TASK_DEFAULT),
        "default_task_execution_timeout": Fixed("", TASK_DEFAULT),
        "default_pool_task_slot_count": Fixed("128", "the slots of default_pool when created"),
        "unit_test_mode": Fixed("False", "orchestrator has no unit test mode"),
        "security": AirflowDefault(""),
        "default_impersonation": AirflowDefault(""),
        "test_connection": AirflowDefault("Disabled"),
        "multi_team": Fixed("False", "orchestrator has no teams"),
        "fernet_key": Withheld(NOT_HERE),
    },
    "dag_processor": {
        "dag_file_processor_timeout": setting("dag_file_processor_timeout", "30.0"),
        "parsing_processes": setting("dag_processor_parsing_processes", "2"),
        "refresh_interval": setting("dag_processor_refresh_interval", "2.0"),
    },
    "database": {
        "sql_alchemy_conn": Withheld(NOT_HERE),
    },
    "logging": {
        "base_log_folder": FromSetting("log_dir", _under_home("logs"), _path),
        "logging_level": setting("log_level", "INFO", str.upper),
        "remote_logging": AirflowDefault("False"),
        "remote_log_conn_id": AirflowDefault(""),
        "remote_base_log_folder": AirflowDefault(""),
        "encrypt_s3_logs": AirflowDefault("False"),
        "delete_local_logs": AirflowDefault("False"),
    },
    "scheduler": {
        "create_cron_data_intervals": setting("create_cron_data_intervals", "False", _boolean),
        # One setting here for Airflow's two keys (see dagruns/sdk/timetables).
        "create_delta_data_intervals": setting("create_cron_data_intervals", "False", _boolean),
        "scheduler_heartbeat_sec": setting("scheduler_heartbeat_sec", "5.0"),
        "scheduler_health_check_threshold": setting("scheduler_health_check_threshold", "30.0"),
        "task_instance_heartbeat_timeout": setting("task_heartbeat_timeout", "300.0"),
        "task_queued_timeout": setting("task_queued_timeout", "600.0"),
        "catchup_by_default": Fixed("False", DAG_DEFAULT),
    },
    "triggerer": {
        "capacity": setting("triggerer_capacity", "1000"),
        "triggerer_health_check_threshold": setting("triggerer_health_check_threshold", "30.0"),
    },
    "kubernetes_executor": {
        "pod_template_file": setting("kubernetes_pod_template_file", None, _path, unset=""),
        "worker_container_repository": setting(
            "kubernetes_worker_image", None, _image_part(0), unset=""
        ),
        "worker_container_tag": setting("kubernetes_worker_image", None, _image_part(1), unset=""),
        "namespace": setting("kubernetes_namespace", "default"),
        "delete_worker_pods": setting("kubernetes_delete_worker_pods", "True", _boolean),
        "delete_worker_pods_on_failure": setting(
            "kubernetes_delete_worker_pods_on_failure", "False", _boolean
        ),
        "config_file": setting("kubernetes_config_file", None, _path),
    },
    "celery": {
        "broker_url": Withheld(NOT_HERE),
        "result_backend": Withheld(NOT_HERE),
    },
    "smtp": {
        "smtp_host": setting("smtp_host", "localhost"),
        "smtp_port": setting("smtp_port", "25"),
        "smtp_starttls": setting("smtp_starttls", "True", _boolean),
        "smtp_ssl": setting("smtp_ssl", "False", _boolean),
        "smtp_user": setting("smtp_user", None),
        "smtp_mail_from": setting("smtp_mail_from", "airflow@example.com"),
        "smtp_timeout": setting("smtp_timeout", "30.0"),
        "smtp_password": Withheld(NOT_HERE),
    },
    "email": {
        "default_email_on_retry": Fixed("True", TASK_DEFAULT),
        "default_email_on_failure": Fixed("True", TASK_DEFAULT),
    },
    "operators": {
        "default_owner": Fixed("airflow", TASK_DEFAULT),
        "default_queue": Fixed("default", TASK_DEFAULT),
        "default_deferrable": Fixed("false", TASK_DEFAULT),
    },
    "sensors": {
        "default_timeout": Fixed("604800", "a sensor's default (its argument changes it)"),
    },
    "api": {
        "base_url": setting("api_url", "http://127.0.0.1:8000"),
        "maximum_page_limit": setting("api_maximum_page_limit", "100"),
        "secret_key": Withheld(NOT_HERE),
    },
    "api_auth": {
        "jwt_expiration_time": setting("api_token_ttl", "86400.0"),
        "jwt_secret": Withheld(NOT_HERE),
    },
    "secrets": {
        "backend": AirflowDefault(""),
        "backend_kwargs": Withheld(NOT_HERE),
    },
    "metrics": {
        "statsd_on": AirflowDefault("False"),
        "statsd_host": AirflowDefault("localhost"),
        "statsd_port": AirflowDefault("8125"),
        "statsd_prefix": AirflowDefault("airflow"),
    },
}

# Airflow 3's renamed keys still read under their old names (its `deprecated_options`), for
# those of `KEYS`: old (section, key) -> new (section, key).
DEPRECATED: dict[tuple[str, str], tuple[str, str]] = {
    ("core", "dag_file_processor_timeout"): ("dag_processor", "dag_file_processor_timeout"),
    ("scheduler", "dag_dir_list_interval"): ("dag_processor", "refresh_interval"),
    ("webserver", "base_url"): ("api", "base_url"),
    ("webserver", "secret_key"): ("api", "secret_key"),
    ("triggerer", "default_capacity"): ("triggerer", "capacity"),
    ("workers", "execution_api_server_url"): ("core", "execution_api_server_url"),
    ("core", "sql_alchemy_conn"): ("database", "sql_alchemy_conn"),
}
