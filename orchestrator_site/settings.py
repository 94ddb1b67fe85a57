"""Django settings, driven by `ORCH_*` environment variables.

The defaults are the embedded setup: SQLite in WAL mode under ORCH_HOME, the local executor,
an in-memory channel layer. Setting ORCH_DATABASE_URL to a PostgreSQL URL and ORCH_REDIS_URL
moves the same code to a real deployment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from orchestrator_site.config import (
    env_bool,
    env_float,
    env_int,
    env_optional,
    env_path,
    env_str,
    persistent_secret,
)

BASE_DIR = Path(__file__).resolve().parent.parent
ORCH_HOME = env_path("HOME", BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_optional("SECRET_KEY") or persistent_secret(ORCH_HOME / "secret_key")
ALLOWED_HOSTS = [h.strip() for h in env_str("ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    # Login throttling (dagruns/views/login_throttle.py); keeps its counts in its own tables.
    "axes",
    "channels",
    "dagruns",
    "scheduler",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # API bodies over their limit: a JSON 413 naming the limit, before any view reads them.
    "dagruns.api.body_size.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: turns a sign-in refused for too many failures into the 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "orchestrator_site.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "orchestrator_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict:
    url = env_optional("DATABASE_URL") or f"sqlite:///{ORCH_HOME / 'orchestrator.db'}"
    try:
        # Persistent connections: opening one (and, on SQLite, running its PRAGMAs) for every
        # Execution API call cost more than the call itself. Health checks drop dead ones.
        config = dj_database_url.parse(
            url, conn_max_age=env_int("DB_CONN_MAX_AGE", 600), conn_health_checks=True
        )
    except Exception as exc:  # dj_database_url raises bare ValueError/KeyError
        raise ImproperlyConfigured(f"ORCH_DATABASE_URL={url!r} is not usable: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            # Several processes (processor, scheduler, API server, workers) write to one file:
            # WAL lets readers proceed during a write, the busy timeout makes a writer wait
            # instead of failing, and IMMEDIATE takes the write lock at BEGIN so two
            # transactions never deadlock upgrading a read lock ("database is locked").
            "timeout": env_float("SQLITE_BUSY_TIMEOUT", 30.0),
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=30000;"
            ),
        }
        # A file, not :memory:, so threads and subprocesses of a test can share it; one per
        # test process, so test sessions running side by side never share (or delete) one.
        config["TEST"] = {"NAME": str(ORCH_HOME / f"test_orchestrator_{os.getpid()}.db")}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})
        config["TEST"] = {"NAME": f"test_{config['NAME']}_{os.getpid()}"}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = ORCH_HOME / "staticfiles"

REDIS_URL = env_optional("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "[%(asctime)s] %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- orchestrator ---------------------------------------------------------------------------
ORCH: dict[str, Any] = {
    "HOME": ORCH_HOME,
    "DAGS_FOLDER": env_path("DAGS_FOLDER", ORCH_HOME / "dags"),
    "LOAD_EXAMPLES": env_bool("LOAD_EXAMPLES", False),
    "LOG_DIR": env_path("LOG_DIR", ORCH_HOME / "logs"),
    "EXECUTOR": env_str("EXECUTOR", "local"),
    "PARALLELISM": env_int("PARALLELISM", 32, minimum=1),
    "DAG_FILE_PROCESSOR_TIMEOUT": env_float("DAG_FILE_PROCESSOR_TIMEOUT", 30.0, minimum=0.1),
    "DAG_PROCESSOR_PARSING_PROCESSES": env_int("DAG_PROCESSOR_PARSING_PROCESSES", 2, minimum=1),
    "DAG_PROCESSOR_REFRESH_INTERVAL": env_float("DAG_PROCESSOR_REFRESH_INTERVAL", 2.0),
    "FERNET_KEY": env_optional("FERNET_KEY"),
    # Airflow's [core] dags_are_paused_at_creation (default True): a new DAG waits for a person.
    "DAGS_ARE_PAUSED_AT_CREATION": env_bool("DAGS_ARE_PAUSED_AT_CREATION", True),
    # Airflow 3's [scheduler] create_cron_data_intervals (default False: trigger timetables).
    "CREATE_CRON_DATA_INTERVALS": env_bool("CREATE_CRON_DATA_INTERVALS", False),
    # --- engine ---
    "EXECUTION_API_TOKEN_TTL": env_float("EXECUTION_API_TOKEN_TTL", 600.0, minimum=1.0),
    "XCOM_MAX_SIZE": env_int("XCOM_MAX_SIZE", 1024 * 1024, minimum=1),
    # The largest request body the REST API, the Execution API and /auth/token take (bytes;
    # Django's DATA_UPLOAD_MAX_MEMORY_SIZE default). Larger: a JSON 413 naming this setting.
    "REQUEST_BODY_MAX_SIZE": env_int("REQUEST_BODY_MAX_SIZE", 2621440, minimum=1),
    # Login throttling (/login/, /auth/token, the admin): this many failed attempts for one
    # username or from one address lock both out for LOGIN_COOLOFF seconds (429).
    "LOGIN_FAILURE_LIMIT": env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1),
    "LOGIN_COOLOFF": env_float("LOGIN_COOLOFF", 900.0, minimum=1.0),
    # Where workers reach the API server (the Execution API). Standalone sets it.
    "API_URL": env_str("API_URL", "http://127.0.0.1:8000"),
    "SCHEDULER_HEARTBEAT_SEC": env_float("SCHEDULER_HEARTBEAT_SEC", 5.0),
    # A running task whose heartbeat is older than this is a zombie (Airflow's
    # [scheduler] task_instance_heartbeat_timeout, default 300 s).
    "TASK_HEARTBEAT_TIMEOUT": env_float("TASK_HEARTBEAT_TIMEOUT", 300.0, minimum=1.0),
    # How often the runner heartbeats (Airflow's [workers] ... default 5 s).
    "TASK_HEARTBEAT_INTERVAL": env_float("TASK_HEARTBEAT_INTERVAL", 5.0, minimum=0.1),
    # Queued longer than this without being claimed: handed back to the scheduler.
    "TASK_QUEUED_TIMEOUT": env_float("TASK_QUEUED_TIMEOUT", 600.0, minimum=1.0),
    # The scheduler's poll when nothing wakes it (events wake it at once).
    "SCHEDULER_IDLE_SLEEP": env_float("SCHEDULER_IDLE_SLEEP", 1.0, minimum=0.01),
}

# Django's own body limit (pages, forms) follows ORCH_REQUEST_BODY_MAX_SIZE.
DATA_UPLOAD_MAX_MEMORY_SIZE = ORCH["REQUEST_BODY_MAX_SIZE"]

# --- login throttling (django-axes), driven by ORCH_LOGIN_* through login_throttle ---------
AUTHENTICATION_BACKENDS = [
    "dagruns.views.login_throttle.ThrottledLoginBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = "dagruns.views.login_throttle.failure_limit"
AXES_COOLOFF_TIME = "dagruns.views.login_throttle.cool_off"
AXES_LOCKOUT_CALLABLE = "dagruns.views.login_throttle.lockout_response"
# Per username and, separately, per address (not only the pair): spreading guesses over many
# usernames from one address, or over many addresses for one username, is stopped too.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A refused attempt during a lockout does not restart the cool-off: Retry-After stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Failures are audited as AuditEvent rows; axes need not log every success too.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
