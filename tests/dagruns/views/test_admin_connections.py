"""The connection admin's paper cuts: a type picked from the known ones (or typed), login on
one line, the extra shown and edited as JSON with its secrets masked and kept, clear errors
for bad JSON, passwords still write-only, and the admin in the dashboard's theme."""

from __future__ import annotations

import json

import pytest

from dagruns.models import Connection

pytestmark = pytest.mark.django_db

ADD = "/admin/dagruns/connection/add/"
BASE = {"conn_id": "files", "conn_type": "fs", "host": "", "login": "", "password": ""}


def _change_url(conn_id: str) -> str:
    return f"/admin/dagruns/connection/{Connection.objects.get(conn_id=conn_id).pk}/change/"


def test_the_type_offers_the_known_types_and_accepts_another(operator):
    html = operator.get(ADD).content.decode()
    assert 'list="conn-types"' in html
    assert '<option value="fs">File (path)</option>' in html
    assert '<option value="generic">Generic</option>' in html
    response = operator.post(ADD, {**BASE, "conn_id": "mine", "conn_type": "my_service"})
    assert response.status_code == 302
    assert Connection.objects.get(conn_id="mine").conn_type == "my_service"


def test_login_is_a_one_line_input(operator):
    html = operator.get(ADD).content.decode()
    assert '<input type="text" name="login"' in html
    assert '<textarea name="login"' not in html


def test_the_extra_is_shown_as_json_with_secrets_masked_and_a_mask_keeps_the_secret(operator):
    extra = {"path": "/data", "api_token": "t-123", "nested": {"password": "p-9", "n": 1}}
    operator.post(ADD, {**BASE, "password": "pw-1", "extra": json.dumps(extra)})
    page = operator.get(_change_url("files")).content.decode()
    assert "t-123" not in page and "p-9" not in page and "pw-1" not in page
    assert "&quot;path&quot;: &quot;/data&quot;" in page
    assert "&quot;api_token&quot;: &quot;***&quot;" in page
    edited = {"path": "/srv", "api_token": "***", "nested": {"password": "***", "n": 2}}
    response = operator.post(
        _change_url("files"), {**BASE, "extra": json.dumps(edited), "password": ""}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    conn = Connection.objects.get(conn_id="files")
    assert conn.extra_dejson == {
        "path": "/srv",
        "api_token": "t-123",
        "nested": {"password": "p-9", "n": 2},
    }
    assert conn.password == "pw-1"  # the password stays write-only: empty keeps it


def test_emptying_the_extra_removes_it(operator):
    operator.post(ADD, {**BASE, "extra": '{"path": "/data"}'})
    operator.post(_change_url("files"), {**BASE, "extra": ""})
    assert Connection.objects.get(conn_id="files").extra == ""


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (
            '{"path": "/data",}',
            "Extra is not valid JSON: Expecting property name enclosed in "
            "double quotes (line 1, column 18).",
        ),
        ("[1, 2]", "Extra must be a JSON object ({…}), not a list."),
        ('{"token": "***"}', "*** stands for a stored secret, and there is none to keep at token"),
    ],
)
def test_an_extra_that_cannot_be_saved_is_a_clear_error_on_the_field(operator, extra, said):
    response = operator.post(ADD, {**BASE, "extra": extra})
    assert response.status_code == 200
    assert said in response.content.decode().replace("&quot;", '"').replace("&#x27;", "'")
    assert not Connection.objects.filter(conn_id="files").exists()


def test_the_admin_is_drawn_with_the_dashboards_theme(operator):
    html = operator.get(ADD).content.decode()
    for sheet in ("theme.css", "admin-theme.css"):
        assert f'/static/{sheet}"' in html
    assert "/static/theme.js" in html
    assert "admin/js/theme.js" not in html  # one theme setting: the dashboard's
    assert 'class="theme-toggle"' not in html
    assert "test connection" not in html.lower()
