"""The census of live Celery workers ("why is it waiting"): it finds the broker exactly as the
executor and the workers do (orchestrator_site/broker.py), so a page never blames a broker the
engine does not use, and says what is wrong with the setting when there is no usable one."""

# ruff: noqa: F811 (pytest fixtures imported by name, then requested as arguments)

from __future__ import annotations

import os

from dagruns.domain.workers import census
from orchestrator_site import worker_registry
from orchestrator_site.worker_registry import WorkerRecord
from tests.brokers import redis_server  # noqa: F401


def test_without_a_broker_the_census_names_the_variable_to_set(orch_settings):
    orch_settings.celery_broker_url = None
    orch_settings.redis_url = None
    result = census()
    assert result.workers == ()
    assert "set ORCH_CELERY_BROKER_URL (or ORCH_REDIS_URL" in result.problem


def test_a_broker_other_than_redis_is_the_executors_error_not_a_connection_attempt(orch_settings):
    orch_settings.celery_broker_url = "amqp://guest:secret@127.0.0.1:5672//"
    result = census()
    assert "ORCH_CELERY_BROKER_URL=" in result.problem
    assert "only Redis is supported" in result.problem
    assert "secret" not in result.problem  # the password is never shown


def test_the_census_reads_the_workers_from_the_broker_orch_redis_url_defaults_to(
    orch_settings, redis_server
):
    orch_settings.celery_broker_url = None
    orch_settings.redis_url = redis_server.url
    conn = worker_registry.client(redis_server.url)
    try:
        worker_registry.register(
            conn, WorkerRecord("w1@test", "host", ("default", "etl"), 4, os.getpid())
        )
        result = census()
    finally:
        conn.close()
    assert result.problem == ""
    assert [w.name for w in result.serving("etl")] == ["w1@test"]
    assert result.served_queues() == ["default", "etl"]
