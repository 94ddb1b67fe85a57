"""`POST /auth/token` and who may call the API: bearer tokens, browser sessions, roles."""

from __future__ import annotations

import time

import jwt
import pytest
from django.test import Client

from dagruns.api.rest.auth import issue_token
from dagruns.domain.roles import Role
from dagruns.domain.tokens import issue_token as issue_execution_token
from tests.dagruns.api.rest.conftest import Api
from tests.personas import make_user

pytestmark = pytest.mark.django_db


def token_call(body=None, raw=None, content_type="application/json"):
    import json

    data = raw if raw is not None else json.dumps(body)
    return Client().post("/auth/token", data=data, content_type=content_type)


def test_a_token_is_issued_for_the_right_password_with_201(admin_user):
    response = token_call({"username": "ada", "password": "s3cret-pass-word"})
    assert response.status_code == 201
    token = response.json()["access_token"]
    assert Api(token).get("/dags").status_code == 200


def test_a_form_encoded_login_works_too(admin_user):
    response = Client().post("/auth/token", {"username": "ada", "password": "s3cret-pass-word"})
    assert response.status_code == 201


def test_a_wrong_password_or_unknown_user_is_401(admin_user):
    assert token_call({"username": "ada", "password": "nope"}).status_code == 401
    assert token_call({"username": "ghost", "password": "x"}).status_code == 401


def test_an_inactive_user_gets_no_token(admin_user):
    admin_user.is_active = False
    admin_user.save()
    assert token_call({"username": "ada", "password": "s3cret-pass-word"}).status_code == 401


@pytest.mark.parametrize(
    "raw", ["{not json", "[]", '{"username": "ada"}', '{"username": 1, "password": 2}']
)
def test_a_malformed_login_body_is_400(raw, admin_user):
    response = token_call(raw=raw)
    assert response.status_code == 400 and "detail" in response.json()


def test_another_content_type_is_415(admin_user):
    assert token_call(raw="ada:pw", content_type="text/plain").status_code == 415


def test_get_is_not_a_way_to_log_in():
    assert Client().get("/auth/token").status_code == 405


def test_no_token_is_401_with_a_bearer_challenge(nobody, world):
    response = nobody.get("/dags")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_expired_token_is_401(admin_user):
    token = issue_token(admin_user, ttl=1)
    time.sleep(2.1)
    response = Api(token).get("/dags")
    assert response.status_code == 401
    assert response.json() == {"detail": "Token expired"}


def test_the_token_lifetime_comes_from_settings(admin_user, orch_settings):
    orch_settings.api_token_ttl = 60
    claims = jwt.decode(issue_token(admin_user), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60


def test_a_forged_token_is_401(admin_user):
    claims = jwt.decode(issue_token(admin_user), options={"verify_signature": False})
    forged = jwt.encode(claims, "a-guessed-key-that-is-long-enough-for-hs256", algorithm="HS256")
    assert Api(forged).get("/dags").status_code == 401
    assert Api("not-a-jwt").get("/dags").status_code == 401


def test_an_execution_api_token_is_not_a_rest_api_token(dag_run):
    from tests.builders import ti_of

    ti = ti_of(dag_run, "extract")
    assert Api(issue_execution_token(ti.id, 1)).get("/dags").status_code == 401


def test_a_token_without_the_bearer_scheme_is_401(admin_user):
    response = Client().get(
        "/api/v2/dags", headers={"Authorization": f"Token {issue_token(admin_user)}"}
    )
    assert response.status_code == 401


def test_changing_the_password_revokes_earlier_tokens(admin_user):
    token = issue_token(admin_user)
    admin_user.set_password("another-pass-word")
    admin_user.save()
    assert Api(token).get("/dags").status_code == 401


def test_a_deleted_user_token_is_401(admin_user):
    token = issue_token(admin_user)
    admin_user.delete()
    assert Api(token).get("/dags").status_code == 401


def test_a_viewer_token_on_a_mutation_is_403(viewer, world):
    response = viewer.patch("/dags/etl", {"is_paused": True})
    assert response.status_code == 403
    assert "User role" in response.json()["detail"]


def test_a_user_without_any_role_is_403_even_for_reading(stranger, world):
    assert stranger.get("/dags").status_code == 403


def test_the_browser_session_works_and_its_unsafe_calls_need_the_csrf_token(world):
    make_user("browser", Role.USER)
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username="browser", password="s3cret-pass-word")
    assert browser.get("/api/v2/dags").status_code == 200
    refused = browser.patch(
        "/api/v2/dags/etl", data='{"is_paused": true}', content_type="application/json"
    )
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    browser.get("/api/v2/docs")  # sets the CSRF cookie, as the docs page does for its calls
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.patch(
        "/api/v2/dags/etl",
        data='{"is_paused": true}',
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert accepted.status_code == 200 and accepted.json()["is_paused"] is True


def test_health_and_version_need_no_credentials(nobody):
    assert nobody.get("/monitor/health").status_code == 200
    assert nobody.get("/version").status_code == 200
