"""Personas (admin, operator, user, viewer, stranger) as logged-in clients, and isolation of
logs and the local bus per test."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from dagruns.domain.roles import Role, assign_role
from dagruns.ui import graph_layout, structure

# A real task run (runner child process against the live Execution API) for the masking tests.
from tests.scheduler.runner.conftest import dags_dir, make_try  # noqa: F401


@pytest.fixture(autouse=True)
def isolated_orch_dirs(orch_settings, tmp_path):
    orch_settings["HOME"] = tmp_path
    orch_settings["LOG_DIR"] = tmp_path / "logs"
    return tmp_path


@pytest.fixture(autouse=True)
def _fresh_ui_caches():
    """Version ids restart when a test's transaction rolls back: forget cached shapes."""
    structure.clear_cache()
    graph_layout.clear_cache()
    yield
    structure.clear_cache()
    graph_layout.clear_cache()


def _person(username: str, role: Role | None = None, **extra) -> User:
    for r in Role:  # flushed by transactional tests; the names are what matter
        Group.objects.get_or_create(name=r.group_name)
    user = User.objects.create_user(username, password="pw-" + username, **extra)
    if role is not None:
        assign_role(user, role)
    return user


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer(db):
    return _client(_person("vera", Role.VIEWER))


@pytest.fixture
def user(db):
    return _client(_person("uma", Role.USER))


@pytest.fixture
def operator(db):
    return _client(_person("otto", Role.OP, is_staff=True))


@pytest.fixture
def admin(db):
    return _client(_person("ada", is_superuser=True, is_staff=True))


@pytest.fixture
def stranger(db):
    return _client(_person("sam"))
