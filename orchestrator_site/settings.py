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
    BASE_DIR,
    OrchSettings,
    SettingError,
    env_name,
    load_settings,
    persistent_secret,
)

# Every ORCH_* environment variable, typed and validated once (orchestrator_site/config.py).
# Code reads it as settings.ORCH.<name>.
try:
    ORCH: OrchSettings = load_settings()
except SettingError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

ORCH_HOME = ORCH.home

DEBUG = ORCH.debug
SECRET_KEY = ORCH.secret_key or persistent_secret(ORCH_HOME / "secret_key")
ALLOWED_HOSTS = ORCH.allowed_hosts
CSRF_TRUSTED_ORIGINS = ORCH.csrf_trusted_origins

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
    # The viewer's timezone (a cookie) activated for the request: every page's dates, admin too.
    "dagruns.views.timezone.TimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # One server-side secrets masker per request (XComs, rendered fields, notes).
    "dagruns.views.security.MaskingScopeMiddleware",
    # A NUL character in a page's form field or query: a 400 naming the field.
    "dagruns.views.security.RejectNulMiddleware",
    # ORCH_CSP on every HTML answer.
    "dagruns.views.security.ContentSecurityPolicyMiddleware",
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
                "dagruns.views.timezone.timezone_context",
            ],
        },
    },
]


def _private_sqlite_files(database: Path) -> None:
    """The database holds session keys and password hashes: readable by its owner only.

    SQLite creates the -wal and -shm files with the database file's permissions, so creating
    the database 0600 before SQLite opens it is enough for new installs; files of an existing
    install are narrowed here too.
    """
    if str(database) in ("", ":memory:"):
        return
    try:
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(0o600)
    except OSError:
        pass  # a read-only or foreign-owned location: SQLite reports what it cannot open


def _database(orch: OrchSettings | None = None) -> dict[str, Any]:
    """DATABASES["default"] from `orch` (default: the environment as it is now)."""
    if orch is None:
        try:
            orch = load_settings()
        except SettingError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
    url = orch.database_url or f"sqlite:///{orch.home / 'orchestrator.db'}"
    try:
        # Persistent connections: opening one (and, on SQLite, running its PRAGMAs) for every
        # Execution API call cost more than the call itself. Health checks drop dead ones.
        config = dj_database_url.parse(
            url, conn_max_age=orch.db_conn_max_age, conn_health_checks=True
        )
    except Exception as exc:  # dj_database_url raises bare ValueError/KeyError
        raise ImproperlyConfigured(f"ORCH_DATABASE_URL={url!r} is not usable: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        _private_sqlite_files(Path(config["NAME"]))
        config["OPTIONS"] = {
            # Several processes (processor, scheduler, API server, workers) write to one file:
            # WAL lets readers proceed during a write, the busy timeout makes a writer wait
            # instead of failing, and IMMEDIATE takes the write lock at BEGIN so two
            # transactions never deadlock upgrading a read lock ("database is locked").
            "timeout": orch.sqlite_busy_timeout,
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
        config["TEST"] = {"NAME": str(orch.home / f"test_orchestrator_{os.getpid()}.db")}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})
        pool = _postgres_pool(orch)
        if pool is not None:
            config["OPTIONS"]["pool"] = pool
            # Django refuses persistent connections with a pool: a request's connection goes
            # back to the pool at its end instead (see _postgres_pool for why that matters).
            config["CONN_MAX_AGE"] = 0
        config["TEST"] = {"NAME": f"test_{config['NAME']}_{os.getpid()}"}
    if config["ENGINE"] != "django.db.backends.postgresql":
        _refuse_pool_settings(orch, config["ENGINE"])
    return dict(config)  # a plain dict, as Django's DATABASES types it


# Pool settings. Under ASGI every request runs its ORM code in a thread of its own, and a
# persistent connection belongs to the thread that opened it: with CONN_MAX_AGE > 0 each
# request left an idle connection behind (60 concurrent requests → 63 idle connections, and
# with three schedulers PostgreSQL refused clients). psycopg's pool bounds a process's
# connections: a request borrows one and returns it at its end; when all are lent, the next
# request waits (up to ORCH_DB_POOL_TIMEOUT) instead of opening one more.
_POOL_SETTINGS = ("db_pool_size", "db_pool_max_size", "db_pool_timeout")


def _postgres_pool(orch: OrchSettings) -> dict[str, Any] | None:
    # Airflow's SQLAlchemy pool keeps 5 connections (sql_alchemy_pool_size) and opens up to 10
    # more under load (sql_alchemy_max_overflow): at most 15 per process, the default maximum
    # here. psycopg opens its minimum at once (SQLAlchemy opens lazily), so the minimum kept
    # open is smaller: single-threaded processes (scheduler, processor) need one or two.
    size, max_size = orch.db_pool_size, orch.db_pool_max_size
    if max_size == 0:
        return None  # no pool: one connection per thread, kept ORCH_DB_CONN_MAX_AGE seconds
    if max_size < size:
        raise ImproperlyConfigured(
            f"ORCH_DB_POOL_MAX_SIZE={max_size} must be at least ORCH_DB_POOL_SIZE={size}"
        )
    if "db_conn_max_age" in orch.model_fields_set and orch.db_conn_max_age != 0:
        raise ImproperlyConfigured(
            "ORCH_DB_CONN_MAX_AGE cannot be used with the connection pool (connections go "
            "back to the pool after each request); set ORCH_DB_POOL_MAX_SIZE=0 to turn the "
            "pool off and keep connections per thread instead"
        )
    # Airflow recycles pooled connections after 30 minutes (sql_alchemy_pool_recycle).
    return {
        "min_size": size,
        "max_size": max_size,
        "timeout": orch.db_pool_timeout,
        "max_lifetime": 1800.0,
    }


def _refuse_pool_settings(orch: OrchSettings, engine: str) -> None:
    """Only PostgreSQL has a pool: a pool setting given for another database is refused
    rather than silently doing nothing."""
    given = [env_name(name) for name in _POOL_SETTINGS if name in orch.model_fields_set]
    if given:
        raise ImproperlyConfigured(
            f"only PostgreSQL has a connection pool: {', '.join(given)} cannot be used with {engine}"
        )


DATABASES = {"default": _database(ORCH)}
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
# One date format everywhere, the dashboard's (dagruns/ui/format.py): the admin's too.
FORMAT_MODULE_PATH = ["orchestrator_site.formats"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = ORCH_HOME / "staticfiles"

REDIS_URL = ORCH.redis_url
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
    "root": {"handlers": ["console"], "level": ORCH.log_level},
    "filters": {"quiet_websocket": {"()": "orchestrator_site.log_filters.QuietWebsocketLines"}},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # uvicorn logs each websocket handshake at INFO: one page view, up to three lines.
        "uvicorn.error": {"filters": ["quiet_websocket"]},
    },
}

# Django's own body limit (pages, forms) follows ORCH_REQUEST_BODY_MAX_SIZE.
DATA_UPLOAD_MAX_MEMORY_SIZE = ORCH.request_body_max_size

# --- login throttling (django-axes), driven by ORCH_LOGIN_FAILURE_LIMIT and ORCH_LOGIN_COOLOFF
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
