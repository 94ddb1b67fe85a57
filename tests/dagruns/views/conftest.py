"""Personas (admin, operator, user, viewer, stranger) as logged-in clients, and isolation of
logs and the local bus per test."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dagruns.ui import calendar, graph_layout, structure
from tests.personas import persona

# A real task run (runner child process against the live Execution API) for the masking tests.
from tests.scheduler.runner.conftest import dags_dir, make_try  # noqa: F401


@pytest.fixture(autouse=True)
def isolated_orch_dirs(orch_settings, tmp_path):
    orch_settings.home = tmp_path
    orch_settings.log_dir = tmp_path / "logs"
    return tmp_path


@pytest.fixture(autouse=True)
def _fresh_ui_caches():
    """Version ids restart when a test's transaction rolls back: forget cached shapes."""
    structure.clear_cache()
    graph_layout.clear_cache()
    calendar.clear_cache()
    yield
    structure.clear_cache()
    graph_layout.clear_cache()
    calendar.clear_cache()


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer(db):
    return _client(persona("viewer"))


@pytest.fixture
def user(db):
    return _client(persona("user"))


@pytest.fixture
def operator(db):
    return _client(persona("op"))


@pytest.fixture
def admin(db):
    return _client(persona("admin"))


@pytest.fixture
def stranger(db):
    return _client(persona("stranger"))
