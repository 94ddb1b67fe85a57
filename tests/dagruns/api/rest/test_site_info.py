"""`/providers`, `/plugins`, `/plugins/importErrors`, `/config`: Airflow's shapes, roles and
the `ORCH_EXPOSE_CONFIG` gate."""

from __future__ import annotations

import pytest

from dagruns.domain.configuration import HIDDEN, NOT_EXPOSED
from dagruns.sdk.airflow_compat.version import AIRFLOW_VERSION

pytestmark = pytest.mark.django_db

PLUGIN = """
from airflow.plugins_manager import AirflowPlugin
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable

class Weekly(Timetable):
    def infer_manual_data_interval(self, *, run_after):
        return DataInterval.exact(run_after)

    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        return None

class WeeklyPlugin(AirflowPlugin):
    name = "weekly"
    timetables = [Weekly]
"""


def test_providers_lists_the_served_provider_packages_in_airflows_shape(op):
    body = op.get("/providers").json()
    names = [p["package_name"] for p in body["providers"]]
    assert "apache-airflow-providers-standard" in names
    assert "apache-airflow-providers-common-compat" in names
    assert body["total_entries"] == len(names) and names == sorted(names)
    standard = body["providers"][names.index("apache-airflow-providers-standard")]
    assert set(standard) == {"package_name", "description", "version", "documentation_url"}
    assert standard["version"] == AIRFLOW_VERSION
    assert "FSHook" in standard["description"] and "BashOperator" in standard["description"]
    assert standard["documentation_url"] == (
        "https://airflow.apache.org/docs/apache-airflow-providers-standard/stable/index.html"
    )


def test_providers_pages_with_limit_and_offset(op):
    everything = op.get("/providers").json()
    second = op.get("/providers", params={"limit": 1, "offset": 1}).json()
    assert second["total_entries"] == everything["total_entries"]
    assert second["providers"] == everything["providers"][1:2]


def test_providers_need_the_op_role(user):
    assert user.get("/providers").status_code == 403


@pytest.fixture
def plugins(orch_settings, tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    orch_settings.plugins_folder = folder
    return folder


def test_plugins_lists_each_loaded_plugin_with_its_source_and_timetables(viewer, plugins):
    (plugins / "rest_weekly_plugin.py").write_text(PLUGIN)
    body = viewer.get("/plugins").json()
    assert body["total_entries"] == 1
    (plugin,) = body["plugins"]
    assert plugin["name"] == "weekly"
    assert plugin["source"] == "$PLUGINS_FOLDER/rest_weekly_plugin.py"
    assert plugin["timetables"] == ["rest_weekly_plugin.Weekly"]
    assert plugin["macros"] == [] and plugin["listeners"] == [] and plugin["fastapi_apps"] == []


def test_plugin_import_errors_name_the_file_and_the_error(viewer, plugins):
    broken = plugins / "rest_broken_plugin.py"
    broken.write_text("raise RuntimeError('half-written plugin')\n")
    body = viewer.get("/plugins/importErrors").json()
    assert body["total_entries"] == 1
    (error,) = body["import_errors"]
    assert error["source"] == str(broken.resolve())
    assert "RuntimeError: half-written plugin" in error["error"]
    assert viewer.get("/plugins").json() == {"plugins": [], "total_entries": 0}


def test_a_refused_plugin_is_an_import_error_naming_the_attribute(viewer, plugins):
    (plugins / "rest_macro_plugin.py").write_text(
        "from airflow.plugins_manager import AirflowPlugin\n"
        "class M(AirflowPlugin):\n    name = 'm'\n    hooks = [object]\n"
    )
    (error,) = viewer.get("/plugins/importErrors").json()["import_errors"]
    assert "sets `hooks`" in error["error"]


def test_config_is_refused_with_airflows_message_unless_exposed(op, orch_settings):
    orch_settings.expose_config = "False"
    response = op.get("/config")
    assert response.status_code == 403
    assert response.json() == {"detail": NOT_EXPOSED}
    assert op.get("/config/section/core/option/parallelism").status_code == 403


@pytest.mark.parametrize("mode", ["True", "non-sensitive-only"])
def test_config_lists_sections_with_sensitive_values_hidden(op, orch_settings, mode):
    orch_settings.expose_config = mode
    orch_settings.parallelism = 7
    orch_settings.secret_key = "do-not-show-me"
    orch_settings.smtp_password = "nor-me"
    body = op.get("/config").json()
    sections = {s["name"]: {o["key"]: o["value"] for o in s["options"]} for s in body["sections"]}
    assert sections["core"]["parallelism"] == "7"
    assert sections["smtp"]["smtp_password"] == HIDDEN
    assert sections["api"]["secret_key"] == HIDDEN
    assert sections["database"]["database_url"] == HIDDEN
    assert "do-not-show-me" not in str(body) and "nor-me" not in str(body)


def test_config_filters_by_section_and_says_which_is_missing(op, orch_settings):
    orch_settings.expose_config = "True"
    body = op.get("/config", params={"section": "smtp"}).json()
    assert [s["name"] for s in body["sections"]] == ["smtp"]
    missing = op.get("/config", params={"section": "nope"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Section nope not found."}


def test_one_config_value_and_a_missing_option(op, orch_settings):
    orch_settings.expose_config = "True"
    orch_settings.parallelism = 9
    body = op.get("/config/section/core/option/parallelism").json()
    assert body == {
        "sections": [{"name": "core", "options": [{"key": "parallelism", "value": "9"}]}]
    }
    missing = op.get("/config/section/core/option/nope")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Option [core/nope] not found."}


def test_config_as_text_when_asked_for_text(op, orch_settings):
    orch_settings.expose_config = "True"
    orch_settings.parallelism = 5
    response = op.get("/config", params={"section": "core"}, headers={"Accept": "text/plain"})
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert text.startswith("[core]\n") and "\nparallelism = 5\n" in text
    refused = op.get("/config", headers={"Accept": "application/xml"})
    assert refused.status_code == 406
    # As Airflow: the type the header starts with decides.
    first_text = op.get("/config", headers={"Accept": "text/plain, application/json"})
    assert first_text["Content-Type"].startswith("text/plain")
    first_json = op.get("/config", headers={"Accept": "application/json, text/plain"})
    assert first_json["Content-Type"].startswith("application/json")


def test_config_needs_the_op_role(user, orch_settings):
    orch_settings.expose_config = "True"
    assert user.get("/config").status_code == 403
