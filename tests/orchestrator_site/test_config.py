"""Reading ORCH_* variables: types, defaults, and a clear refusal of malformed values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator_site.config import OrchSettings, SettingError, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def environ(monkeypatch, tmp_path):
    """A clean ORCH_* environment with ORCH_HOME in tmp_path; returns monkeypatch."""
    for name in list(os.environ):
        if name.startswith("ORCH_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ORCH_HOME", str(tmp_path))
    return monkeypatch


def test_defaults_are_the_embedded_setup(environ, tmp_path):
    loaded = load_settings()
    assert loaded.home == tmp_path.resolve()
    assert loaded.dags_folder == tmp_path.resolve() / "dags"
    assert loaded.log_dir == tmp_path.resolve() / "logs"
    assert loaded.executor == "local"
    assert loaded.parallelism == 32
    assert loaded.dags_are_paused_at_creation is True
    assert loaded.api_token_ttl == 86400
    assert loaded.api_maximum_page_limit == 100
    assert loaded.scheduler_health_check_threshold == 30
    assert loaded.allowed_hosts == ["*"]
    assert loaded.database_url is None


def test_values_are_read_with_their_types(environ, tmp_path):
    environ.setenv("ORCH_PARALLELISM", "4")
    environ.setenv("ORCH_SCHEDULER_IDLE_SLEEP", "0.25")
    environ.setenv("ORCH_LOAD_EXAMPLES", "yes")
    environ.setenv("ORCH_DAGS_ARE_PAUSED_AT_CREATION", "off")
    environ.setenv("ORCH_ALLOWED_HOSTS", "a.example, b.example,")
    environ.setenv("ORCH_DAGS_FOLDER", str(tmp_path / "elsewhere" / ".." / "dags2"))
    environ.setenv("ORCH_LOG_LEVEL", "warning")
    environ.setenv("ORCH_API_MAXIMUM_PAGE_LIMIT", "500")
    loaded = load_settings()
    assert loaded.parallelism == 4
    assert loaded.scheduler_idle_sleep == 0.25
    assert loaded.load_examples is True
    assert loaded.dags_are_paused_at_creation is False
    assert loaded.allowed_hosts == ["a.example", "b.example"]
    assert loaded.dags_folder == (tmp_path / "dags2").resolve()
    assert loaded.log_level == "WARNING"
    assert loaded.api_maximum_page_limit == 500


def test_an_empty_variable_counts_as_unset(environ):
    environ.setenv("ORCH_PARALLELISM", "")
    environ.setenv("ORCH_EXECUTOR", "")
    loaded = load_settings()
    assert loaded.parallelism == 32
    assert loaded.executor == "local"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ORCH_PARALLELISM", "many", "ORCH_PARALLELISM='many' is not a whole number"),
        ("ORCH_PARALLELISM", "1.5", "ORCH_PARALLELISM='1.5' is not a whole number"),
        ("ORCH_PARALLELISM", "0", "ORCH_PARALLELISM=0 must be at least 1"),
        ("ORCH_SCHEDULER_IDLE_SLEEP", "soon", "ORCH_SCHEDULER_IDLE_SLEEP='soon' is not a number"),
        (
            "ORCH_TASK_HEARTBEAT_TIMEOUT",
            "0.5",
            "ORCH_TASK_HEARTBEAT_TIMEOUT=0.5 must be at least 1",
        ),
        ("ORCH_DEBUG", "maybe", "ORCH_DEBUG='maybe' is not a boolean (use true or false)"),
        ("ORCH_API_TOKEN_TTL", "0", "ORCH_API_TOKEN_TTL=0 must be at least 1"),
        (
            "ORCH_SCHEDULER_HEALTH_CHECK_THRESHOLD",
            "0",
            "ORCH_SCHEDULER_HEALTH_CHECK_THRESHOLD=0 must be greater than 0",
        ),
        ("ORCH_LOG_LEVEL", "loud", "ORCH_LOG_LEVEL='loud': Input should be 'DEBUG'"),
        (
            "ORCH_EXECUTOR",
            "local,dask",
            "ORCH_EXECUTOR='local,dask': unknown executor 'dask'; "
            "known executors: local, celery, kubernetes",
        ),
        (
            "ORCH_EXECUTOR",
            "Local",
            "ORCH_EXECUTOR='Local': unknown executor 'Local'; known executors: local, celery",
        ),
        (
            "ORCH_EXECUTOR",
            "local,,celery",
            "ORCH_EXECUTOR='local,,celery': an empty executor name in the list",
        ),
        ("ORCH_EXECUTOR", "celery,local,celery", "executor 'celery' is listed twice"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_variable(environ, name, value, message):
    environ.setenv(name, value)
    with pytest.raises(SettingError) as refused:
        load_settings()
    assert message in str(refused.value)


def test_the_executor_setting_is_a_list_whose_first_name_is_the_default(environ):
    assert load_settings().executors == ["local"]
    environ.setenv("ORCH_EXECUTOR", " celery , local ")
    loaded = load_settings()
    assert loaded.executors == ["celery", "local"]
    assert loaded.default_executor == "celery"
    assert loaded.executor == "celery,local"  # the readers of the plain string see it tidied


def test_a_process_started_with_an_unknown_executor_names_it_and_stops(tmp_path):
    result = _manage(tmp_path, "check", ORCH_EXECUTOR="local,dask")
    assert result.returncode != 0
    assert "ORCH_EXECUTOR='local,dask': unknown executor 'dask'" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_problem_is_named_at_once(environ):
    environ.setenv("ORCH_PARALLELISM", "x")
    environ.setenv("ORCH_DEBUG", "x")
    with pytest.raises(SettingError) as refused:
        load_settings()
    assert "ORCH_PARALLELISM" in str(refused.value)
    assert "ORCH_DEBUG" in str(refused.value)


def test_secrets_stay_out_of_the_printed_settings(environ):
    environ.setenv("ORCH_SECRET_KEY", "s3cret-value")
    environ.setenv("ORCH_FERNET_KEY", "f3rnet-value")
    loaded = load_settings()
    assert loaded.secret_key == "s3cret-value"
    assert "s3cret" not in repr(loaded) and "f3rnet" not in repr(loaded)


def test_every_setting_has_a_meaning():
    assert all(field.description for field in OrchSettings.model_fields.values())


def _manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORCH_")}
    clean.update(ORCH_HOME=str(tmp_path), **env)
    if "ORCH_DATABASE_URL" in os.environ:
        clean["ORCH_DATABASE_URL"] = os.environ["ORCH_DATABASE_URL"]
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_process_started_with_a_malformed_variable_says_which_and_stops(tmp_path):
    result = _manage(tmp_path, "check", ORCH_PARALLELISM="lots")
    assert result.returncode != 0
    assert "ORCH_PARALLELISM='lots' is not a whole number" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_process_reads_the_new_api_settings_from_its_environment(tmp_path):
    result = _manage(
        tmp_path,
        "shell",
        "-c",
        "from django.conf import settings as s; o = s.ORCH; "
        "print(o.api_token_ttl, o.api_maximum_page_limit, o.scheduler_health_check_threshold)",
        ORCH_API_TOKEN_TTL="120",
        ORCH_API_MAXIMUM_PAGE_LIMIT="7",
        ORCH_SCHEDULER_HEALTH_CHECK_THRESHOLD="45",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["120.0", "7", "45.0"]


def test_names_are_exact_as_they_always_were(environ):
    environ.setenv("orch_parallelism", "3")
    assert load_settings().parallelism == 32
    assert load_settings({"ORCH_PARALLELISM": "3"}).parallelism == 3


def test_every_declared_type_parses_from_its_environment_spelling():
    loaded = load_settings(
        {
            "ORCH_HOME": "/srv/orch",
            "ORCH_DATABASE_URL": "postgresql://u@h:5432/db",
            "ORCH_DB_CONN_MAX_AGE": "0",
            "ORCH_CSRF_TRUSTED_ORIGINS": "https://a.example,https://b.example",
            "ORCH_FERNET_KEY": "k1,k2",
            "ORCH_REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert loaded.home == Path("/srv/orch")
    assert loaded.dags_folder == Path("/srv/orch/dags")
    assert loaded.database_url == "postgresql://u@h:5432/db"
    assert loaded.db_conn_max_age == 0
    assert loaded.csrf_trusted_origins == ["https://a.example", "https://b.example"]
    assert loaded.fernet_key == "k1,k2"
    assert loaded.redis_url == "redis://127.0.0.1:6379/0"
