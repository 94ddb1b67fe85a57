"""Fixtures for every test under tests/dagruns."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Personas are made per test, and PBKDF2 (a million rounds, on purpose) made their
    creation most of a page test's time. Every server these tests talk to runs in this process
    (the test client, pytest-django's live_server), so they all read this setting; the tests
    whose servers run in other processes with the production hashers (tests/browser, tests/e2e)
    live elsewhere."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
