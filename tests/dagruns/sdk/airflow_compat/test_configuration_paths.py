"""Airflow's import paths of its configuration object, its exception and airflow.settings reach ours."""

from __future__ import annotations

import pytest

from dagruns.sdk.exceptions import AirflowConfigException


@pytest.mark.usefixtures("shim")
def test_airflow_paths_reach_the_same_conf():
    from airflow.configuration import conf as configuration_conf
    from airflow.exceptions import AirflowConfigException as core_exception
    from airflow.sdk import conf as sdk_conf
    from airflow.sdk.configuration import conf as sdk_configuration_conf
    from airflow.sdk.exceptions import AirflowConfigException as sdk_exception

    assert configuration_conf is sdk_conf is sdk_configuration_conf
    assert core_exception is sdk_exception is AirflowConfigException


@pytest.mark.usefixtures("shim")
def test_airflow_settings_gives_the_folders_and_the_timezone(monkeypatch, tmp_path):
    monkeypatch.setenv("ORCH_DAGS_FOLDER", str(tmp_path / "dags"))
    from airflow import settings
    from airflow.settings import DAGS_FOLDER, TIMEZONE

    assert str(tmp_path / "dags") == DAGS_FOLDER
    assert settings.AIRFLOW_HOME
    assert TIMEZONE.name == "UTC"
    with pytest.raises(ImportError, match="airflow.settings.Session"):
        from airflow.settings import Session  # noqa: F401
