"""The Celery benchmark's broker: ORCH_CELERY_BROKER_URL when set (and said so), else a private
redis-server that lives exactly as long as the benchmark; workers get no database settings."""

from __future__ import annotations

import re

from scheduler.benchmarks.broker import broker, pings, worker_env


def test_a_configured_broker_is_used_and_named(monkeypatch, tmp_path):
    monkeypatch.setenv("ORCH_CELERY_BROKER_URL", "redis://10.0.0.9:6379/3")
    with broker(tmp_path) as chosen:
        assert chosen == {"url": "redis://10.0.0.9:6379/3", "source": "ORCH_CELERY_BROKER_URL"}


def test_without_one_a_private_redis_server_runs_for_the_benchmark_only(monkeypatch, tmp_path):
    monkeypatch.delenv("ORCH_CELERY_BROKER_URL", raising=False)
    with broker(tmp_path) as chosen:
        port = int(re.fullmatch(r"redis://127\.0\.0\.1:(\d+)/0", chosen["url"]).group(1))
        assert chosen["source"] == f"private redis-server started by the benchmark on port {port}"
        assert pings(port)
    assert not pings(port)


def test_workers_get_no_database_url():
    env = worker_env({"ORCH_DATABASE_URL": "postgresql://x@y/z", "ORCH_API_URL": "http://a"})
    assert env == {"ORCH_API_URL": "http://a"}
