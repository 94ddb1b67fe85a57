"""The connection form's Test button follows ORCH_TEST_CONNECTION as Airflow's follows
`[core] test_connection`: working when Enabled, greyed out with the reason when Disabled,
absent when Hidden. (What the button calls is tests/dagruns/api/rest/test_connection_test.py;
the click itself, tests/browser/test_admin_pages.py.)"""

from __future__ import annotations

import pytest

from dagruns.actions.connection_test import TESTING_DISABLED
from dagruns.models import Connection

pytestmark = pytest.mark.django_db

ADD = "/admin/dagruns/connection/add/"


def test_enabled_shows_a_working_button_posting_to_the_rest_api(operator, orch_settings):
    orch_settings.test_connection = "Enabled"
    html = operator.get(ADD).content.decode()
    assert 'id="test-connection-button"' in html
    assert 'data-url="/api/v2/connections/test"' in html
    assert "disabled" not in html.split('id="test-connection-button"')[1].split(">")[0]
    assert "connection-test.js" in html


def test_disabled_greys_the_button_out_with_airflows_reason(operator, orch_settings):
    orch_settings.test_connection = "Disabled"
    html = operator.get(ADD).content.decode()
    button = html.split('id="test-connection-button"')[1].split(">")[0]
    assert "disabled" in button
    assert TESTING_DISABLED in html


def test_hidden_shows_no_button(operator, orch_settings):
    orch_settings.test_connection = "Hidden"
    assert 'id="test-connection-button"' not in operator.get(ADD).content.decode()


def test_the_change_form_names_the_stored_connection(operator, orch_settings):
    orch_settings.test_connection = "Enabled"
    conn = Connection.objects.create(conn_id="files", conn_type="fs")
    html = operator.get(f"/admin/dagruns/connection/{conn.pk}/change/").content.decode()
    assert 'data-conn-id="files"' in html
