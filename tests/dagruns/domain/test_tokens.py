"""Execution API tokens: signed with a key derived from SECRET_KEY, expiring, one try each."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from dagruns.domain import tokens
from dagruns.domain.tokens import InvalidToken, issue_token, verify_token

TI_ID = uuid.UUID("0b5c2a4e-6a55-4a47-9c1f-5a1d3e2f4b6c")


def test_a_token_carries_the_task_instance_try_scope_and_lifetime(orch_settings):
    orch_settings.execution_api_token_ttl = 120.0
    token = issue_token(TI_ID, 3)
    claims = verify_token(token)
    assert (claims.ti_id, claims.try_number, claims.lifetime) == (TI_ID, 3, 120)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["scope"] == "execution"
    assert payload["sub"] == str(TI_ID)
    assert payload["try"] == 3


def test_an_explicit_ttl_overrides_the_setting():
    assert verify_token(issue_token(TI_ID, 1, ttl=30)).lifetime == 30


def test_a_new_secret_key_invalidates_every_token(settings):
    token = issue_token(TI_ID, 1)
    settings.SECRET_KEY = "a different secret key for this test only"
    with pytest.raises(InvalidToken):
        verify_token(token)


def test_the_key_is_not_the_secret_key_itself(settings):
    token = jwt.encode(
        {"sub": str(TI_ID), "try": 1, "scope": "execution", "iat": 0, "exp": time.time() + 60},
        settings.SECRET_KEY,
        algorithm="HS256",
    )
    with pytest.raises(InvalidToken):
        verify_token(token)


def test_a_token_issued_by_a_clock_slightly_ahead_is_accepted():
    now = int(time.time())
    payload = {"sub": str(TI_ID), "try": 1, "scope": "execution", "iat": now + 5, "exp": now + 600}
    token = jwt.encode(payload, tokens._key(), algorithm="HS256")
    assert verify_token(token).try_number == 1


def test_a_token_needs_refreshing_once_less_than_half_its_lifetime_is_left():
    claims = verify_token(issue_token(TI_ID, 1, ttl=100))
    assert not claims.needs_refresh(now=claims.issued_at + 49)
    assert claims.needs_refresh(now=claims.issued_at + 51)
