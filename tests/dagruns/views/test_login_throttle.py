"""Login throttling on `/auth/token` and `/login/`: 429 after ORCH_LOGIN_FAILURE_LIMIT failures
per username and per address, audited, the same answers for unknown users and wrong
passwords, lifted after ORCH_LOGIN_COOLOFF or by a success before the limit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from dagruns.models import AuditEvent

PASSWORD = "s3cret-pass-word"
LIMIT = 3


@pytest.fixture(autouse=True)
def throttle(orch_settings):
    orch_settings.login_failure_limit = LIMIT
    orch_settings.login_cooloff = 600.0


@pytest.fixture
def ada(db):
    return User.objects.create_user("ada", password=PASSWORD)


def _token(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        "/auth/token",
        data={"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


# --- over real HTTP ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_token_requests_are_refused_with_a_json_429_after_the_limit(live_server):
    User.objects.create_user("ada", password=PASSWORD)
    url = f"{live_server.url}/auth/token"

    def attempt(password: str) -> requests.Response:
        return requests.post(url, json={"username": "ada", "password": password}, timeout=30)

    statuses = [attempt("wrong").status_code for _ in range(LIMIT)]
    assert statuses == [401] * (LIMIT - 1) + [429]
    refused = attempt(PASSWORD)  # the right password too, until the cool-off has passed
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/json"
    assert refused.headers["Retry-After"] == "600"
    detail = refused.json()["detail"]
    assert "ORCH_LOGIN_FAILURE_LIMIT=3" in detail and "600 seconds" in detail
    events = list(AuditEvent.objects.values_list("event", "owner"))
    assert events.count(("login_failed", "ada")) >= LIMIT
    assert ("login_locked_out", "ada") in events
    failed = AuditEvent.objects.filter(event="login_failed").first()
    assert failed.extra["ip_address"] == "127.0.0.1" and failed.extra["path"] == "/auth/token"


@pytest.mark.django_db(transaction=True)
def test_the_login_form_shows_a_429_page_after_the_limit(live_server):
    User.objects.create_user("ada", password=PASSWORD)
    browser = requests.Session()

    def attempt(password: str) -> requests.Response:
        page = browser.get(f"{live_server.url}/login/", timeout=30)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return browser.post(
            f"{live_server.url}/login/",
            data={"username": "ada", "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{live_server.url}/login/"},
            allow_redirects=False,
            timeout=30,
        )

    statuses = [attempt("wrong").status_code for _ in range(LIMIT)]
    assert statuses == [200] * (LIMIT - 1) + [429]
    refused = attempt(PASSWORD)
    assert refused.status_code == 429
    assert "text/html" in refused.headers["Content-Type"]
    assert "Too many failed" in refused.text and "600 seconds" in refused.text


# --- per username, per address, no enumeration, cool-off (the test client's REMOTE_ADDR) --


def test_one_username_is_locked_whatever_address_tries_it(ada):
    client = Client()
    answers = [_token(client, "ada", "wrong", f"10.0.0.{n}").status_code for n in range(LIMIT)]
    assert answers == [401] * (LIMIT - 1) + [429]
    assert _token(client, "ada", PASSWORD, "10.9.9.9").status_code == 429


def test_one_address_is_locked_whatever_username_it_tries(ada):
    client = Client()
    answers = [_token(client, f"guess{n}", "wrong", "10.0.0.7").status_code for n in range(LIMIT)]
    assert answers == [401] * (LIMIT - 1) + [429]
    assert _token(client, "ada", PASSWORD, "10.0.0.7").status_code == 429
    assert _token(client, "ada", PASSWORD, "10.0.0.8").status_code == 201


def test_an_unknown_username_and_a_wrong_password_get_the_same_answers(ada):
    client = Client()
    for step in range(LIMIT + 1):
        unknown = _token(client, "nobody-here", "wrong", "10.0.1.1")
        wrong = _token(client, "ada", "wrong", "10.0.2.1")
        assert unknown.status_code == wrong.status_code, step
        assert unknown.json() == wrong.json(), step


def test_a_success_before_the_limit_forgets_the_failures(ada):
    client = Client()
    for _ in range(LIMIT - 1):
        assert _token(client, "ada", "wrong").status_code == 401
    assert _token(client, "ada", PASSWORD).status_code == 201
    for _ in range(LIMIT - 1):
        assert _token(client, "ada", "wrong").status_code == 401
    assert _token(client, "ada", PASSWORD).status_code == 201


def test_the_lockout_ends_after_the_cool_off(ada):
    client = Client()
    for _ in range(LIMIT):
        _token(client, "ada", "wrong")
    assert _token(client, "ada", PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(seconds=601), tick=False):
        assert _token(client, "ada", PASSWORD).status_code == 201


def test_the_limit_follows_the_setting(ada, orch_settings):
    orch_settings.login_failure_limit = 5
    client = Client()
    answers = [_token(client, "ada", "wrong").status_code for _ in range(5)]
    assert answers == [401, 401, 401, 401, 429]


def test_checking_a_password_without_a_request_is_not_throttled(ada):
    from django.contrib.auth import authenticate

    for _ in range(LIMIT + 2):
        assert authenticate(username="ada", password="wrong") is None
    assert authenticate(username="ada", password=PASSWORD) is not None
