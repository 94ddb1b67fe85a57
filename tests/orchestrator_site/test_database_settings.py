"""The DATABASES setting: PostgreSQL gets a bounded connection pool sized by ORCH_DB_POOL_*;
SQLite keeps its per-thread connections; settings that cannot apply are refused by name."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from orchestrator_site.settings import _database

PG = "postgresql://postgres@127.0.0.1:5432/orchestrator"


@pytest.fixture
def env(monkeypatch):
    for name in ("DATABASE_URL", "DB_CONN_MAX_AGE", "DB_POOL_SIZE", "DB_POOL_MAX_SIZE",
                 "DB_POOL_TIMEOUT"):  # fmt: skip
        monkeypatch.delenv(f"ORCH_{name}", raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"ORCH_{name}", value)

    return set_env


def test_postgresql_gets_a_pool_with_airflow_like_bounds_and_no_persistent_connections(env):
    env(DATABASE_URL=PG)
    config = _database()
    assert config["OPTIONS"]["pool"] == {
        "min_size": 2,
        "max_size": 15,
        "timeout": 30.0,
        "max_lifetime": 1800.0,
    }
    assert config["CONN_MAX_AGE"] == 0


def test_the_pool_is_sized_by_settings_and_can_be_turned_off(env):
    env(DATABASE_URL=PG, DB_POOL_SIZE="3", DB_POOL_MAX_SIZE="7", DB_POOL_TIMEOUT="5")
    pool = _database()["OPTIONS"]["pool"]
    assert (pool["min_size"], pool["max_size"], pool["timeout"]) == (3, 7, 5.0)
    env(DB_POOL_MAX_SIZE="0", DB_CONN_MAX_AGE="60")
    config = _database()
    assert "pool" not in config["OPTIONS"]
    assert config["CONN_MAX_AGE"] == 60


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"DB_CONN_MAX_AGE": "600"}, "ORCH_DB_CONN_MAX_AGE"),
        ({"DB_POOL_SIZE": "20", "DB_POOL_MAX_SIZE": "10"}, "ORCH_DB_POOL_MAX_SIZE=10"),
        ({"DB_POOL_SIZE": "0"}, "ORCH_DB_POOL_SIZE"),
        ({"DB_POOL_MAX_SIZE": "many"}, "ORCH_DB_POOL_MAX_SIZE"),
        ({"DB_POOL_TIMEOUT": "0"}, "ORCH_DB_POOL_TIMEOUT"),
    ],
)
def test_pool_settings_that_cannot_work_are_refused_by_name(env, values, named):
    env(DATABASE_URL=PG, **values)
    with pytest.raises(ImproperlyConfigured, match=named):
        _database()


def test_sqlite_has_no_pool_and_refuses_pool_settings(env, tmp_path):
    env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    config = _database()
    assert "pool" not in config["OPTIONS"]
    assert config["CONN_MAX_AGE"] == 600
    env(DB_POOL_MAX_SIZE="5")
    with pytest.raises(ImproperlyConfigured, match="ORCH_DB_POOL_MAX_SIZE"):
        _database()
