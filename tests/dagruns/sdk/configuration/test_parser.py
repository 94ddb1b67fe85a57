"""`conf` answers Airflow's keys from this system's settings, with Airflow's methods, fallbacks
and errors; `from airflow.configuration import conf` reaches it."""

from __future__ import annotations

import datetime
import logging
from pathlib import Path

import pytest

from dagruns.sdk.configuration import AirflowConfigParser
from dagruns.sdk.exceptions import AirflowConfigException


@pytest.fixture
def conf(monkeypatch, tmp_path) -> AirflowConfigParser:
    """A parser over a clean environment: ORCH_HOME in tmp_path, no other ORCH_/AIRFLOW__."""
    import os

    for name in list(os.environ):
        if name.startswith(("ORCH_", "AIRFLOW__")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ORCH_HOME", str(tmp_path))
    return AirflowConfigParser()


def test_keys_with_a_setting_answer_its_default_in_airflows_spelling(conf, tmp_path):
    assert conf.get("core", "dags_folder") == str(tmp_path / "dags")
    assert conf.getint("core", "parallelism") == 32
    assert conf.get("core", "executor") == "LocalExecutor"
    assert conf.getboolean("core", "load_examples") is False
    assert conf.getfloat("core", "dagbag_import_timeout") == 30.0
    assert conf.get("logging", "base_log_folder") == str(tmp_path / "logs")
    assert conf.get("kubernetes_executor", "namespace") == "default"
    assert conf.get("kubernetes_executor", "worker_container_repository") == ""
    assert conf.get("kubernetes_executor", "pod_template_file") == ""


def test_keys_with_a_setting_follow_the_orch_variable_of_the_process(conf, monkeypatch):
    monkeypatch.setenv("ORCH_PARALLELISM", "7")
    monkeypatch.setenv("ORCH_EXECUTOR", "celery,kubernetes")
    monkeypatch.setenv("ORCH_LOAD_EXAMPLES", "yes")
    monkeypatch.setenv("ORCH_KUBERNETES_WORKER_IMAGE", "registry:5000/team/worker:1.2")
    monkeypatch.setenv("ORCH_API_URL", "https://orch.example.com/")
    assert conf.getint("core", "parallelism") == 7
    assert conf.getlist("core", "executor") == ["CeleryExecutor", "KubernetesExecutor"]
    assert conf.getboolean("core", "load_examples") is True
    assert (
        conf.get("kubernetes_executor", "worker_container_repository")
        == "registry:5000/team/worker"
    )
    assert conf.get("kubernetes_executor", "worker_container_tag") == "1.2"
    assert conf.get("core", "execution_api_server_url") == "https://orch.example.com/execution/"


def test_an_image_without_a_tag_has_an_empty_tag(conf, monkeypatch):
    monkeypatch.setenv("ORCH_KUBERNETES_WORKER_IMAGE", "registry:5000/worker")
    assert conf.get("kubernetes_executor", "worker_container_repository") == "registry:5000/worker"
    assert conf.get("kubernetes_executor", "worker_container_tag") == ""


def test_a_malformed_orch_variable_is_an_error_naming_it(conf, monkeypatch):
    monkeypatch.setenv("ORCH_LOAD_EXAMPLES", "perhaps")
    with pytest.raises(
        AirflowConfigException, match=r"ORCH_LOAD_EXAMPLES='perhaps' is not a boolean"
    ):
        conf.get("core", "load_examples")


def test_fixed_behaviour_answers_airflows_default(conf):
    assert conf.get("core", "default_timezone") == "utc"
    assert conf.getint("core", "max_active_tasks_per_dag") == 16
    assert conf.getboolean("scheduler", "catchup_by_default") is False
    assert conf.getfloat("sensors", "default_timeout") == 604800.0
    assert conf.get("operators", "default_owner") == "airflow"


def test_an_unknown_key_raises_airflows_exception_and_message(conf, caplog):
    with caplog.at_level(logging.WARNING), pytest.raises(AirflowConfigException) as raised:
        conf.get("core", "no_such_key")
    assert str(raised.value) == "section/key [core/no_such_key] not found in config"
    assert "section/key [core/no_such_key] not found in config" in caplog.text


def test_fallback_answers_an_absent_key_and_not_a_present_one(conf):
    assert conf.get("my_team", "bucket", fallback="default-bucket") == "default-bucket"
    assert conf.get("core", "parallelism", fallback="1") == "32"
    assert conf.getint("my_team", "retries", fallback=3) == 3
    assert conf.getboolean("my_team", "flag", fallback=False) is False
    assert conf.get("my_team", "nothing", fallback=None) is None
    assert conf.getlist("my_team", "hosts", fallback=None) is None


def test_airflow_variables_answer_keys_nothing_here_acts_on(conf, monkeypatch):
    monkeypatch.setenv("AIRFLOW__MY_TEAM__HOSTS", "a, b,c")
    monkeypatch.setenv("AIRFLOW__MY_TEAM__LIMITS", '{"rows": 10}')
    monkeypatch.setenv("AIRFLOW__MY_TEAM__WAIT", "90")
    monkeypatch.setenv("AIRFLOW__LOGGING__REMOTE_LOGGING", "True")
    assert conf.getlist("my_team", "hosts") == ["a", "b", "c"]
    assert conf.getjson("my_team", "limits") == {"rows": 10}
    assert conf.gettimedelta("my_team", "wait") == datetime.timedelta(seconds=90)
    assert conf.getboolean("logging", "remote_logging") is True
    assert conf.has_section("my_team")
    assert conf.getsection("my_team") == {"hosts": "a, b,c", "limits": '{"rows": 10}', "wait": 90}


def test_an_airflow_variable_for_a_key_this_system_answers_is_refused_naming_what_to_set(
    conf, monkeypatch
):
    monkeypatch.setenv("AIRFLOW__CORE__PARALLELISM", "8")
    with pytest.raises(
        AirflowConfigException, match=r"AIRFLOW__CORE__PARALLELISM is set.*set ORCH_PARALLELISM"
    ):
        conf.getint("core", "parallelism")
    monkeypatch.setenv("AIRFLOW__CORE__DEFAULT_TIMEZONE", "Europe/Paris")
    with pytest.raises(
        AirflowConfigException, match=r"\[core\] default_timezone: it cannot be changed"
    ):
        conf.get("core", "default_timezone")


def test_an_airflow_variable_under_a_deprecated_name_is_refused_as_the_new_one(conf, monkeypatch):
    # Airflow reads AIRFLOW__WEBSERVER__BASE_URL for [api] base_url: set, it must not be
    # ignored while we answer the key from our own setting.
    monkeypatch.setenv("AIRFLOW__WEBSERVER__BASE_URL", "http://elsewhere")
    with pytest.raises(
        AirflowConfigException, match=r"AIRFLOW__WEBSERVER__BASE_URL is set.*\[api\] base_url"
    ):
        conf.get("api", "base_url")


def test_secrets_of_the_deployment_are_not_found_saying_why(conf, monkeypatch):
    monkeypatch.setenv("ORCH_SMTP_PASSWORD", "hunter2")
    with pytest.raises(
        AirflowConfigException, match=r"\[database/sql_alchemy_conn\] not found.*secrets"
    ):
        conf.get("database", "sql_alchemy_conn")
    assert not conf.has_option("smtp", "smtp_password")
    assert "smtp_password" not in conf.getsection("smtp")
    assert conf.get("core", "fernet_key", fallback="") == ""


def test_old_key_names_read_the_new_key(conf, monkeypatch):
    monkeypatch.setenv("ORCH_DAG_PROCESSOR_REFRESH_INTERVAL", "9")
    assert conf.getint("scheduler", "dag_dir_list_interval") == 9
    assert conf.get("webserver", "base_url") == "http://127.0.0.1:8000"
    with pytest.raises(AirflowConfigException):
        conf.get("scheduler", "dag_dir_list_interval", lookup_from_deprecated=False)


def test_conversions_refuse_values_of_the_wrong_type_with_airflows_messages(conf, monkeypatch):
    monkeypatch.setenv("AIRFLOW__MY_TEAM__SIZE", "big")
    with pytest.raises(
        AirflowConfigException,
        match=r'Failed to convert value to int. Please check "size" key in "my_team" section. Current value: "big".',
    ):
        conf.getint("my_team", "size")
    with pytest.raises(AirflowConfigException, match="Failed to convert value to float"):
        conf.getfloat("my_team", "size")
    with pytest.raises(AirflowConfigException, match="Failed to convert value to bool"):
        conf.getboolean("my_team", "size")
    with pytest.raises(
        AirflowConfigException, match="Unable to parse \\[my_team\\] 'size' as valid json"
    ):
        conf.getjson("my_team", "size")
    monkeypatch.setenv("AIRFLOW__MY_TEAM__RATIO", "2.5")
    with pytest.raises(AirflowConfigException, match="Failed to convert value to int"):
        conf.getint("my_team", "ratio")
    assert conf.getint("scheduler", "scheduler_heartbeat_sec") == 5  # "5.0" is a whole number


def test_getimport_imports_the_named_object(conf, monkeypatch):
    monkeypatch.setenv("AIRFLOW__MY_TEAM__CALLABLE", "os.path.join")
    monkeypatch.setenv("AIRFLOW__MY_TEAM__MISSING", "os.path.no_such_function")
    import os.path

    assert conf.getimport("my_team", "callable") is os.path.join
    with pytest.raises(AirflowConfigException, match="The object could not be loaded"):
        conf.getimport("my_team", "missing")


def test_getsection_converts_numbers_and_booleans_and_unknown_sections_are_none(conf):
    core = conf.getsection("core")
    assert core["parallelism"] == 32
    assert core["load_examples"] is False
    assert core["default_timezone"] == "utc"
    assert "fernet_key" not in core
    assert conf.getsection("no_such_section") is None


def test_multi_team_lookups_are_refused(conf):
    with pytest.raises(AirflowConfigException, match="team_name='a'"):
        conf.get("core", "parallelism", team_name="a")


def test_airflow_home_is_orch_home(conf, tmp_path):
    from dagruns.sdk import configuration

    assert str(Path(tmp_path).resolve()) == configuration.AIRFLOW_HOME
