"""The Admin menu walked in a real browser: Providers, Plugins, Config and a connection's
Test button (which calls the REST API from the admin page with the session), with the API
server started under ORCH_EXPOSE_CONFIG=True and ORCH_TEST_CONNECTION=Enabled; no console
error on any of them."""

from __future__ import annotations

import json

import pytest

from dagruns.domain.roles import Role
from tests.browser.conftest import person

pytestmark = pytest.mark.browser

PLUGIN = """
from airflow.plugins_manager import AirflowPlugin
from airflow.timetables.simple import NullTimetable

class BrowserNever(NullTimetable):
    pass

class BrowserPlugin(AirflowPlugin):
    name = "browser_never"
    timetables = [BrowserNever]
"""


@pytest.fixture
def admin_settings(stack):
    """The API server's environment for this test (set before `live_env` starts it), and a
    plugin in its plugins folder."""
    changed = {"ORCH_EXPOSE_CONFIG": "True", "ORCH_TEST_CONNECTION": "Enabled"}
    saved = {key: stack.env.get(key) for key in changed}
    stack.env.update(changed)
    plugins = stack.home / "plugins"
    plugins.mkdir(exist_ok=True)
    plugin_file = plugins / "browser_never_plugin.py"
    plugin_file.write_text(PLUGIN)
    try:
        yield stack
    finally:
        plugin_file.unlink()
        for key, value in saved.items():
            if value is None:
                stack.env.pop(key, None)
            else:
                stack.env[key] = value


def _menu(page, item: str) -> None:
    page.click("#admin-menu > summary")
    page.click(f"#admin-menu .navmenu-items >> text={item}")


def test_the_admin_menu_leads_to_each_admin_page(admin_settings, pages):
    page = pages.open(*person("olga", Role.OP))

    _menu(page, "Providers")
    page.wait_for_selector('tr[data-package="apache-airflow-providers-standard"]')
    assert "FSHook" in page.inner_text('tr[data-package="apache-airflow-providers-standard"]')

    _menu(page, "Plugins")
    row = page.wait_for_selector('tr[data-plugin="browser_never"]')
    assert "browser_never_plugin.BrowserNever" in row.inner_text()

    _menu(page, "Config")
    value = page.wait_for_selector('tr[data-option="secret_key"] .config-value')
    assert value.inner_text() == "< hidden >"
    assert page.is_visible('tr[data-option="parallelism"]')

    _menu(page, "Connections")
    page.wait_for_url("**/admin/dagruns/connection/")
    page.goto("/admin/dagruns/connection/add/")
    page.fill("#id_conn_id", "browser_files")
    page.fill("#id_conn_type", "fs")
    page.fill("#id_extra", json.dumps({"path": str(admin_settings.home)}))
    page.click("#test-connection-button")
    result = page.wait_for_selector("#test-connection-result.test-ok")
    assert result.inner_text() == f"✓ Path {admin_settings.home} is existing."
    page.fill("#id_extra", json.dumps({"path": f"{admin_settings.home}/nowhere"}))
    page.click("#test-connection-button")
    failed = page.wait_for_selector("#test-connection-result.test-failed")
    assert "does not exist" in failed.inner_text()

    assert pages.console_errors == []
