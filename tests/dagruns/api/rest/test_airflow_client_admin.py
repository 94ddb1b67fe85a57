"""Apache Airflow's official Python client reads our providers, plugins and configuration and
tests a connection: the shapes are Airflow's."""

from __future__ import annotations

import json

import pytest
import requests
from airflow_client import client as af
from airflow_client.client.api.config_api import ConfigApi
from airflow_client.client.api.connection_api import ConnectionApi
from airflow_client.client.api.plugin_api import PluginApi
from airflow_client.client.api.provider_api import ProviderApi
from django.contrib.auth.models import Group

from dagruns.domain.roles import Role
from tests.personas import make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PLUGIN = """
from airflow.plugins_manager import AirflowPlugin
from airflow.timetables.simple import NullTimetable

class ClientNever(NullTimetable):
    pass

class ClientPlugin(AirflowPlugin):
    name = "client_never"
    timetables = [ClientNever]
"""


@pytest.fixture
def api_client(live_server, orch_settings, tmp_path):
    for role in Role:
        Group.objects.get_or_create(name=role.group_name)
    make_user("ada", Role.ADMIN)
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "client_never_plugin.py").write_text(PLUGIN)
    orch_settings.plugins_folder = plugins
    orch_settings.expose_config = "True"
    orch_settings.test_connection = "Enabled"
    response = requests.post(
        f"{live_server.url}/auth/token",
        json={"username": "ada", "password": "s3cret-pass-word"},
        timeout=10,
    )
    config = af.Configuration(host=live_server.url, access_token=response.json()["access_token"])
    with af.ApiClient(config) as client:
        yield client


def test_the_official_client_reads_providers_plugins_and_config(api_client):
    providers = ProviderApi(api_client).get_providers()
    assert "apache-airflow-providers-standard" in [p.package_name for p in providers.providers]
    plugins = PluginApi(api_client).get_plugins()
    assert [p.name for p in plugins.plugins] == ["client_never"]
    assert plugins.plugins[0].timetables == ["client_never_plugin.ClientNever"]
    assert PluginApi(api_client).import_errors().total_entries == 0
    config = ConfigApi(api_client).get_config(section="core")
    options = {o.key: o.value.actual_instance for o in config.sections[0].options}
    assert options["fernet_key"] == "< hidden >"
    value = ConfigApi(api_client).get_config_value("core", "parallelism")
    assert value.sections[0].options[0].key == "parallelism"


def test_the_official_client_tests_a_connection(api_client, tmp_path):
    body = af.ConnectionBody(
        connection_id="files", conn_type="fs", extra=json.dumps({"path": str(tmp_path)})
    )
    result = ConnectionApi(api_client).test_connection(body)
    assert (result.status, result.message) == (True, f"Path {tmp_path} is existing.")
