"""The admin's read-only pages (providers, plugins, configuration) and the Admin menu: Op and
Admin only, secrets never on the page, the same few queries whatever they list."""

from __future__ import annotations

import pytest

from dagruns.domain.configuration import HIDDEN, NOT_EXPOSED
from tests.dagruns.views.query_count import queries_of

pytestmark = pytest.mark.django_db

PAGES = ["/providers/", "/plugins/", "/configs/"]


@pytest.fixture(autouse=True)
def exposed(orch_settings):
    orch_settings.expose_config = "True"


@pytest.mark.parametrize("path", PAGES)
def test_op_and_admin_see_the_page(operator, admin, path):
    assert operator.get(path).status_code == 200
    assert admin.get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("who", ["viewer", "user", "stranger"])
def test_people_below_op_are_refused(request, path, who):
    assert request.getfixturevalue(who).get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_goes_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("path", PAGES)
def test_each_page_costs_only_the_session_queries(operator, path):
    # The session and the user with their groups: the pages read no table of their own.
    assert queries_of(operator, path) <= 3


def test_the_providers_page_lists_packages_hooks_and_connection_types(operator):
    html = operator.get("/providers/").content.decode()
    assert 'data-package="apache-airflow-providers-standard"' in html
    assert 'data-package="apache-airflow-providers-common-compat"' in html
    assert "FSHook" in html and "<code>fs</code>" in html
    assert "airflow.providers.standard.operators.bash" in html


def test_the_plugins_page_shows_plugins_and_import_errors(operator, orch_settings, tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    orch_settings.plugins_folder = folder
    (folder / "page_ok_plugin.py").write_text(
        "from airflow.plugins_manager import AirflowPlugin\n"
        "from airflow.timetables.simple import NullTimetable\n"
        "class Never(NullTimetable):\n    pass\n"
        "class P(AirflowPlugin):\n    name = 'never'\n    timetables = [Never]\n"
    )
    (folder / "page_bad_plugin.py").write_text("import no_such_module_here\n")
    html = operator.get("/plugins/").content.decode()
    assert 'data-plugin="never"' in html and "$PLUGINS_FOLDER/page_ok_plugin.py" in html
    assert "Timetables:" in html and "page_ok_plugin.Never" in html
    assert "page_bad_plugin.py" in html and "No module named" in html


def test_the_config_page_masks_sensitive_values_and_names_sources(
    operator, orch_settings, monkeypatch
):
    orch_settings.secret_key = "page-secret-value"
    orch_settings.smtp_password = "page-smtp-password"
    orch_settings.database_url = "postgresql://u:page-db-password@h/db"
    monkeypatch.setenv("ORCH_PARALLELISM", "32")
    orch_settings.parallelism = 32
    html = operator.get("/configs/").content.decode()
    for secret in ("page-secret-value", "page-smtp-password", "page-db-password"):
        assert secret not in html
    assert html.count(HIDDEN.replace("<", "&lt;").replace(">", "&gt;")) >= 3
    row = html.split('data-option="parallelism"')[1].split("</tr>")[0]
    assert "ORCH_PARALLELISM" in row and "env var" in row
    row = html.split('data-option="smtp_host"')[1].split("</tr>")[0]
    assert "default" in row and "[smtp]" in html


def test_the_config_page_is_refused_with_airflows_words_unless_exposed(operator, orch_settings):
    orch_settings.expose_config = "False"
    response = operator.get("/configs/")
    assert response.status_code == 403
    assert NOT_EXPOSED in response.content.decode()


def test_the_admin_menu_links_each_admin_page_for_op_only(operator, viewer, admin):
    html = operator.get("/").content.decode()
    menu = html.split('id="admin-menu"')[1].split("</details>")[0]
    for link in (
        "/admin/dagruns/connection/",
        "/admin/dagruns/variable/",
        "/admin/dagruns/pool/",
        "/providers/",
        "/plugins/",
        "/configs/",
    ):
        assert f'href="{link}"' in menu
    assert "/admin/auth/user/" not in menu  # users are the Admin role's
    assert "/admin/auth/user/" in admin.get("/").content.decode()
    assert 'id="admin-menu"' not in viewer.get("/").content.decode()


def test_a_meanings_backticked_words_are_code_and_the_rest_escaped():
    from dagruns.views.site_admin import inline_code

    assert inline_code("as Airflow's `parallelism` <b>") == (
        "as Airflow&#x27;s <code>parallelism</code> &lt;b&gt;"
    )
    assert inline_code("one ` only <i>") == "one ` only &lt;i&gt;"
