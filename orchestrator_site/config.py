"""Every `ORCH_*` setting, declared once: its type, default and meaning.

A deployment is described by its environment alone: each field below is read from the
environment variable `ORCH_<FIELD NAME IN CAPITALS>`. `settings.ORCH` is the loaded object, so
code reads `settings.ORCH.parallelism` and a type checker sees every read. README's
configuration table is generated from this class (`python -m orchestrator_site.config_table`)
and a test keeps the two equal.

This module imports no Django: a malformed value raises `SettingError` naming the variable,
which `settings.py` turns into Django's ImproperlyConfigured and `manage.py` prints without a
traceback. An empty variable counts as unset (its default applies). Names are exact
(`ORCH_PARALLELISM`, not `orch_parallelism`), as before.

A plain pydantic model fed from `os.environ` rather than pydantic-settings: the same typed
declaration, without ~0.1 s of CPU that importing pydantic-settings adds to every Django
process start (scheduler, DAG processor, API server, each CLI command).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticUndefined

PREFIX = "ORCH_"
BASE_DIR = Path(__file__).resolve().parent.parent

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

# The executors ORCH_EXECUTOR may name (scheduler.executors.base.load_executor builds them).
EXECUTOR_NAMES = ("local", "celery", "kubernetes")


def setting(
    default: Any = PydanticUndefined,
    *,
    meaning: str,
    shown: str | None = None,
    sensitive: bool = False,
    **kw: Any,
):
    """A declared setting: `meaning` is its row in README's table, `shown` the default as
    README writes it (markdown) when the real default is derived (from ORCH_HOME, generated).
    `sensitive` (Airflow's `sensitive: true` in its config.yml): the value is a secret or may
    hold one (a password in a URL), so the configuration page and `/api/v2/config` mask it."""
    extra: JsonDict = {}
    if shown is not None:
        extra["shown_default"] = shown
    if sensitive:
        extra["sensitive"] = True
    return Field(default, description=meaning, json_schema_extra=extra or None, **kw)


def is_sensitive(field: str) -> bool:
    """True if the setting `field` is declared `sensitive`."""
    extra = OrchSettings.model_fields[field].json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("sensitive"))


class SettingError(ValueError):
    """A malformed `ORCH_*` value; the message names the variable and the problem."""


class OrchSettings(BaseModel):
    """The orchestrator's configuration. Field order is README's row order."""

    model_config = ConfigDict(
        extra="forbid",
        # Tests and the in-process engine (scheduler.foreground) set attributes; reads stay
        # plain attribute lookups (this object is read on the engine's hot paths).
        validate_assignment=False,
    )

    # --- where things live ---
    home: Path = setting(
        BASE_DIR / "var",
        meaning="where the SQLite database, logs, DAGs folder and generated secrets live",
        shown="`./var`",
    )
    database_url: str | None = setting(
        None,
        sensitive=True,
        meaning="e.g. `postgresql://user@host:5432/db`",
        shown="`sqlite:///$ORCH_HOME/orchestrator.db`",
    )
    db_conn_max_age: int = setting(
        600, ge=0, meaning="seconds a database connection is kept open for reuse (0: per request)"
    )
    # Connection pool (PostgreSQL only; see settings._postgres_pool for why and the defaults).
    db_pool_size: int = setting(
        2, ge=1, meaning="PostgreSQL connections each process keeps open in its pool"
    )
    db_pool_max_size: int = setting(
        15,
        ge=0,
        meaning="most PostgreSQL connections per process (Airflow's pool 5 + overflow 10); "
        "0 turns the pool off",
    )
    db_pool_timeout: float = setting(
        30.0,
        ge=0.1,
        meaning="seconds a request waits for a free pooled connection (Airflow's `pool_timeout`)",
    )
    sqlite_busy_timeout: float = setting(
        30.0, ge=0, meaning="seconds a SQLite writer waits for the lock before failing"
    )
    dags_folder: Path = setting(
        default_factory=lambda data: data["home"] / "dags",
        meaning="scanned recursively; `.airflowignore` and `.dagignore` (gitignore syntax) honoured",
        shown="`$ORCH_HOME/dags`",
    )
    plugins_folder: Path = setting(
        default_factory=lambda data: data["home"] / "plugins",
        meaning="Airflow-style plugins (`AirflowPlugin` subclasses with custom `timetables`); "
        "read once per process at start",
        shown="`$ORCH_HOME/plugins`",
    )
    dag_ignore_file_syntax: Literal["glob", "regexp"] = setting(
        "glob",
        meaning="syntax of `.airflowignore` patterns, as Airflow's `dag_ignore_file_syntax` "
        "(`glob`, Airflow 3's default, or `regexp`)",
    )
    log_dir: Path = setting(
        default_factory=lambda data: data["home"] / "logs",
        meaning="task logs, in Airflow's layout",
        shown="`$ORCH_HOME/logs`",
    )
    virtualenv_cache_dir: Path = setting(
        default_factory=lambda data: data["home"] / "virtualenvs",
        meaning="where `PythonVirtualenvOperator`/`@task.virtualenv` keep the environments they "
        "build, one per set of requirements (task runners read this variable themselves)",
        shown="`$ORCH_HOME/virtualenvs`",
    )
    load_examples: bool = setting(
        False, meaning="also load `dagruns/example_dags/` (`standalone` turns it on)"
    )
    # --- DAG processing ---
    dag_file_processor_timeout: float = setting(
        30.0, ge=0.1, meaning="seconds one file may take to import"
    )
    dag_processor_parsing_processes: int = setting(2, ge=1, meaning="files parsed at once")
    dag_processor_refresh_interval: float = setting(
        2.0, ge=0, meaning="seconds between scans of the DAGs folder when idle"
    )
    # Airflow's [core] dags_are_paused_at_creation: a new DAG waits for a person.
    dags_are_paused_at_creation: bool = setting(
        True, meaning="as Airflow's `dags_are_paused_at_creation`"
    )
    # Airflow 3's [scheduler] create_cron_data_intervals (False: trigger timetables).
    create_cron_data_intervals: bool = setting(
        False, meaning="Airflow 3's default: cron schedules are trigger timetables"
    )
    # --- secrets ---
    secret_key: str | None = setting(
        None,
        repr=False,
        sensitive=True,
        meaning="Django's secret key",
        shown="generated into `$ORCH_HOME/secret_key`",
    )
    fernet_key: str | None = setting(
        None,
        repr=False,
        sensitive=True,
        meaning="comma-separated Fernet keys for connection/variable encryption (first encrypts)",
        shown="derived from the secret key",
    )
    # --- the engine ---
    executor: str = setting(
        "local",
        meaning="comma-separated executors, the first the default: `local` (a process pool on "
        "the scheduler's host), `celery` (Celery workers), `kubernetes` (a pod per try); a task "
        "picks another of them with its operator's `executor=`",
    )
    parallelism: int = setting(32, ge=1, meaning="task instances running at once, across all DAGs")
    celery_broker_url: str | None = setting(
        None,
        sensitive=True,
        meaning="the Celery executor's broker (Redis), e.g. `redis://127.0.0.1:6379/0`",
        shown="`ORCH_REDIS_URL`",
    )
    # --- the Kubernetes executor (Airflow's [kubernetes_executor] section) ---
    kubernetes_pod_template_file: Path | None = setting(
        None,
        meaning="Kubernetes executor and `celery worker --pods`: the YAML pod template every task pod starts from "
        "(Airflow's `pod_template_file`); none: a pod with one container `base`",
    )
    kubernetes_worker_image: str | None = setting(
        None,
        meaning="Kubernetes executor and `celery worker --pods`: the image of the task container (Airflow's "
        "`worker_container_repository:tag`); none: the template's image",
    )
    kubernetes_namespace: str = setting(
        "default",
        meaning="Kubernetes executor and `celery worker --pods`: the namespace task pods run in",
    )
    kubernetes_pod_pending_timeout: float = setting(
        300.0,
        gt=0,
        meaning="Kubernetes executor and `celery worker --pods`: seconds a pod may stay Pending (image pull failing, "
        "unschedulable) before its try is failed with the pod's reason",
    )
    kubernetes_delete_worker_pods: bool = setting(
        True,
        meaning="Kubernetes executor and `celery worker --pods`: delete a task's pod once its try ended",
    )
    kubernetes_delete_worker_pods_on_failure: bool = setting(
        False,
        meaning="Kubernetes executor and `celery worker --pods`: with `ORCH_KUBERNETES_DELETE_WORKER_PODS`, also delete "
        "the pods of failed tries (false keeps them for debugging)",
    )
    kubernetes_config_file: Path | None = setting(
        None,
        meaning="Kubernetes executor and `celery worker --pods`: the kubeconfig file; none: the in-cluster service "
        "account when running in a pod, else `~/.kube/config`",
    )
    # Where workers reach the API server (the Execution API). Standalone sets it.
    api_url: str = setting(
        "http://127.0.0.1:8000",
        meaning="where task runners reach the Execution API (standalone sets it)",
    )
    execution_api_token_ttl: float = setting(
        600.0, ge=1, meaning="seconds a task token lives; heartbeats refresh it"
    )
    scheduler_heartbeat_sec: float = setting(
        5.0, ge=0, meaning="seconds between the scheduler's heartbeats (its job row)"
    )
    # Airflow's [scheduler] orphaned_tasks_check_interval.
    orphaned_tasks_check_interval: float = setting(
        300.0,
        gt=0,
        meaning="seconds between a scheduler's checks for tries whose scheduler died: it "
        "adopts their Celery messages and Kubernetes pods (Airflow's "
        "`orphaned_tasks_check_interval`)",
    )
    # Airflow's [scheduler] scheduler_health_check_threshold.
    scheduler_health_check_threshold: float = setting(
        30.0,
        gt=0,
        meaning="seconds since its last heartbeat after which `/monitor/health` calls a "
        "scheduler or DAG processor unhealthy, and a scheduler on another host is taken for "
        "dead (its Celery tries and Kubernetes pods adopted) (Airflow's "
        "`scheduler_health_check_threshold`)",
    )
    # Airflow's [triggerer] capacity and triggerer_health_check_threshold.
    triggerer_capacity: int = setting(
        1000, ge=1, meaning="triggers one triggerer runs at once (Airflow's `[triggerer] capacity`)"
    )
    triggerer_health_check_threshold: float = setting(
        30.0,
        gt=0,
        meaning="seconds since its last heartbeat after which a triggerer counts as dead and "
        "its triggers are taken over by another (Airflow's `triggerer_health_check_threshold`)",
    )
    # How often the runner heartbeats (Airflow's [workers] ... default 5 s).
    task_heartbeat_interval: float = setting(
        5.0, ge=0.1, meaning="seconds between a running task's heartbeats"
    )
    # Airflow's [scheduler] task_instance_heartbeat_timeout (300 s).
    task_heartbeat_timeout: float = setting(
        300.0, ge=1, meaning="a running try silent this many seconds is a zombie"
    )
    task_queued_timeout: float = setting(
        600.0, ge=1, meaning="a try queued this long without starting is failed (retries apply)"
    )
    # Messages a broker lost (Redis restarted, nothing on disk) are sent again before the
    # queued timeout fails the try: at 1/(n+1), 2/(n+1) ... of ORCH_TASK_QUEUED_TIMEOUT.
    task_queued_resends: int = setting(
        2,
        ge=0,
        meaning="Celery executor: times a try still queued is sent again (same try, fresh "
        "token), evenly spread over `ORCH_TASK_QUEUED_TIMEOUT`, before it is failed",
    )
    # Below the token's guaranteed remaining life (heartbeats refresh it at half of
    # EXECUTION_API_TOKEN_TTL), so a late report is still accepted.
    task_report_retry_timeout: float = setting(
        240.0,
        ge=1,
        meaning="seconds a task runner keeps retrying its claim, log lines and final report "
        "while the Execution API is unreachable (an API server restart or outage)",
    )
    # 30 s fits inside the usual stop timeouts of process managers (Kubernetes' 30 s
    # termination grace, systemd's 90 s) once standalone's own margin is added.
    shutdown_grace: float = setting(
        30.0,
        ge=0,
        meaning="seconds a stopping scheduler (SIGTERM, Ctrl-C) lets running tries finish; "
        "what still runs then is stopped and queued again without using a retry",
    )
    # The scheduler's poll when nothing wakes it (events wake it at once).
    scheduler_idle_sleep: float = setting(
        1.0, ge=0.01, meaning="the scheduler's poll when nothing wakes it"
    )
    xcom_max_size: int = setting(1024 * 1024, ge=1, meaning="bytes of JSON one XCom may hold")
    # Airflow's [core] max_map_length.
    max_map_length: int = setting(
        1024,
        ge=1,
        meaning="instances one mapped task may expand into; a longer list fails the task that "
        "pushed it (or the mapped task, for a literal list)",
    )
    # Celery beat's retention job (scheduler/housekeeping); Airflow has no such setting (its
    # `airflow db clean` is run by hand or from a DAG).
    retention_days: int | None = setting(
        None,
        ge=1,
        meaning="whole days finished runs (with their task instances, tries, XComs and log "
        "files) and audit rows are kept; `manage.py celery beat` deletes older ones hourly",
        shown="unset: kept forever",
    )
    # --- the dashboard ---
    csp: str = setting(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'",
        meaning="the Content-Security-Policy sent with every HTML page (empty: none); the "
        "default allows only this site's scripts, styles and websockets, no inline code, no eval",
        shown="strict, self only",
    )
    # --- the REST API ---
    # Django's DATA_UPLOAD_MAX_MEMORY_SIZE default; the Execution API's XCom pushes may carry
    # up to 2 x ORCH_XCOM_MAX_SIZE (see dagruns/api/body_size.py).
    request_body_max_size: int = setting(
        2621440,
        ge=1,
        meaning="bytes of body the REST API, the Execution API and `/auth/token` accept; "
        "larger: a JSON 413 naming this setting",
    )
    # Login throttling (/login/, /auth/token, the admin), through django-axes.
    login_failure_limit: int = setting(
        5,
        ge=1,
        meaning="failed sign-ins for one username, or from one address, before both are "
        "refused with 429 for `ORCH_LOGIN_COOLOFF` seconds",
    )
    login_cooloff: float = setting(
        900.0, ge=1, meaning="seconds a throttled username or address stays locked out"
    )
    # Airflow's [api_auth] jwt_expiration_time (86400 s).
    api_token_ttl: float = setting(
        86400.0, ge=1, meaning="seconds a REST API access token (`POST /auth/token`) lives"
    )
    # Airflow's [api] maximum_page_limit.
    api_maximum_page_limit: int = setting(
        100, ge=1, meaning="the largest `limit` a REST API list returns (larger ones are capped)"
    )
    # Airflow's [api] expose_config (False by default): the configuration page and
    # GET /api/v2/config answer 403 unless it is on; sensitive values are masked either way.
    expose_config: Literal["False", "True", "non-sensitive-only"] = setting(
        "False",
        meaning="show the configuration (the admin's Config page and `GET /api/v2/config`) to "
        "Op and Admin users, as Airflow's `[api] expose_config`: `False`, `True` or "
        "`non-sensitive-only` (the same as `True`: sensitive values are always masked)",
    )
    # Airflow's [core] test_connection (Disabled by default: a test makes the API server reach
    # whatever host a connection names).
    test_connection: Literal["Disabled", "Enabled", "Hidden"] = setting(
        "Disabled",
        meaning="the connection admin's Test button and `POST /api/v2/connections/test`, as "
        "Airflow's `[core] test_connection`: `Disabled` (button greyed out, API 403), "
        "`Enabled`, or `Hidden` (no button, API 403)",
    )
    # --- email (Airflow's [smtp] section): email_on_failure / email_on_retry ---
    smtp_host: str = setting(
        "localhost", meaning="SMTP server for task emails (Airflow's `smtp_host`)"
    )
    smtp_port: int = setting(25, ge=1, le=65535, meaning="its port (Airflow's `smtp_port`)")
    smtp_user: str | None = setting(
        None, meaning="SMTP login, if the server wants one (Airflow's `smtp_user`)", shown="unset"
    )
    smtp_password: str | None = setting(
        None,
        repr=False,
        sensitive=True,
        meaning="its password (Airflow's `smtp_password`)",
        shown="unset",
    )
    smtp_starttls: bool = setting(
        True, meaning="upgrade the connection with STARTTLS (Airflow's `smtp_starttls`)"
    )
    smtp_ssl: bool = setting(
        False,
        meaning="connect over SSL from the start (Airflow's `smtp_ssl`; then set "
        "`ORCH_SMTP_STARTTLS=false`)",
    )
    smtp_mail_from: str = setting(
        "airflow@example.com",
        meaning="the From address of task emails (Airflow's `smtp_mail_from`)",
    )
    smtp_timeout: float = setting(
        30.0, gt=0, meaning="seconds to wait for the SMTP server (Airflow's `smtp_timeout`)"
    )
    # --- Django basics ---
    debug: bool = setting(False, meaning="Django's DEBUG (never in production)")
    allowed_hosts: list[str] = setting(
        ["*"], meaning="comma-separated host names the API server answers to"
    )
    csrf_trusted_origins: list[str] = setting(
        [],
        meaning="comma-separated origins of a proxy in front (`https://orch.example.com`): "
        "forms and the live websocket accept them",
    )
    log_level: LogLevel = setting("INFO", meaning="the root logger's level")
    redis_url: str | None = setting(
        None,
        sensitive=True,
        meaning="Redis for live pages and scheduler wake-ups across hosts (pub/sub); unset: "
        "PostgreSQL NOTIFY on PostgreSQL, the local bus on SQLite",
        shown="unset",
    )

    @field_validator("smtp_ssl", mode="after")
    @classmethod
    def _one_kind_of_tls(cls, ssl: bool, info: ValidationInfo) -> bool:
        # Airflow would open an SSL connection and then fail its STARTTLS at the first email;
        # say so at start-up instead.
        if ssl and info.data.get("smtp_starttls"):
            raise ValueError(
                "SSL and STARTTLS cannot both be on (SSL encrypts from the start): "
                "also set ORCH_SMTP_STARTTLS=false"
            )
        return ssl

    @field_validator(
        "home", "dags_folder", "plugins_folder", "log_dir", "virtualenv_cache_dir", mode="after"
    )
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return path.expanduser().resolve()

    @field_validator("allowed_hosts", "csrf_trusted_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("executor", mode="after")
    @classmethod
    def _executor_names(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",")]
        if any(not name for name in names):
            raise ValueError("an empty executor name in the list (a stray comma?)")
        unknown = [name for name in names if name not in EXECUTOR_NAMES]
        if unknown:
            raise ValueError(
                f"unknown executor {unknown[0]!r}; known executors: {', '.join(EXECUTOR_NAMES)}"
            )
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"executor {twice[0]!r} is listed twice")
        return ",".join(names)

    @property
    def executors(self) -> list[str]:
        """ORCH_EXECUTOR as a list: the configured executors, the default first (as Airflow's
        `[core] executor`). A property, not a copy: tests and `dags test` assign `executor`."""
        return self.executor.split(",")

    @property
    def default_executor(self) -> str:
        return self.executors[0]

    @field_validator("expose_config", mode="before")
    @classmethod
    def _expose_config_words(cls, value: Any) -> Any:
        # Airflow reads it with getboolean: any case of true/false, and 1/0, yes/no, on/off.
        if isinstance(value, str):
            word = value.strip().lower()
            if word in ("true", "1", "yes", "on", "t", "y"):
                return "True"
            if word in ("false", "0", "no", "off", "f", "n"):
                return "False"
            return word
        return value

    @field_validator("test_connection", mode="before")
    @classmethod
    def _test_connection_word(cls, value: Any) -> Any:
        # Airflow compares it lower-cased and stripped.
        return value.strip().capitalize() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    return PREFIX + field.upper()


def load_settings(environ: Mapping[str, str] = os.environ) -> OrchSettings:
    """Read the environment; a malformed value raises SettingError naming its variable."""
    given: dict[str, str] = {}
    for name in OrchSettings.model_fields:
        raw = environ.get(env_name(name))
        if raw:  # an empty variable counts as unset
            given[name] = raw
    try:
        # Lax mode parses the strings: "4" -> 4, "true"/"off" -> bool, "/x" -> Path.
        return OrchSettings.model_validate(given)
    except ValidationError as exc:
        problems = (_describe(error, environ) for error in exc.errors())
        raise SettingError("; ".join(problems)) from None


_PROBLEMS = {
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a number",
    "bool_parsing": "is not a boolean (use true or false)",
}


def _describe(error: Any, environ: Mapping[str, str]) -> str:
    field = str(error["loc"][0]) if error["loc"] else "?"
    raw = environ.get(env_name(field), error.get("input"))
    context = error.get("ctx") or {}
    kind = error["type"]
    if kind in _PROBLEMS:
        return f"{env_name(field)}={raw!r} {_PROBLEMS[kind]}"
    if kind == "greater_than_equal":
        return f"{env_name(field)}={raw} must be at least {context['ge']}"
    if kind == "greater_than":
        return f"{env_name(field)}={raw} must be greater than {context['gt']}"
    if kind == "value_error":  # our own validators' messages, without pydantic's prefix
        return f"{env_name(field)}={raw!r}: {context['error']}"
    return f"{env_name(field)}={raw!r}: {error['msg']}"


def persistent_secret(path: Path) -> str:
    """A random secret kept in a file, so the embedded default needs no configuration yet
    keeps sessions and encrypted connections valid across restarts."""
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
