"""The configuration as shown: Airflow's sections, the source of each value, secrets hidden."""

from __future__ import annotations

from dagruns.domain.configuration import HIDDEN, options, section_of, sections
from orchestrator_site.config import OrchSettings, is_sensitive, load_settings

AIRFLOW_SECTIONS = {
    "core",
    "database",
    "dag_processor",
    "scheduler",
    "triggerer",
    "workers",
    "celery",
    "kubernetes_executor",
    "smtp",
    "api",
    "api_auth",
    "execution_api",
    "logging",
}


def test_every_setting_lands_in_an_airflow_section():
    assert {section_of(name) for name in OrchSettings.model_fields} <= AIRFLOW_SECTIONS
    assert section_of("parallelism") == "core"
    assert section_of("database_url") == "database"
    assert section_of("smtp_password") == "smtp"
    assert section_of("kubernetes_namespace") == "kubernetes_executor"
    assert section_of("expose_config") == "api"
    assert section_of("api_url") == "core"  # Airflow's [core] execution_api_server_url


def test_secrets_and_what_may_carry_one_are_declared_sensitive():
    for name, field in OrchSettings.model_fields.items():
        secret_looking = any(w in name for w in ("password", "secret", "fernet"))
        if field.repr is False or secret_looking:
            assert is_sensitive(name), name
    assert is_sensitive("database_url") and is_sensitive("redis_url")
    assert not is_sensitive("parallelism")


def test_values_come_from_the_settings_with_their_source_and_secrets_hidden():
    environ = {"ORCH_PARALLELISM": "3", "ORCH_SMTP_PASSWORD": "pw", "ORCH_SMTP_USER": "me"}
    rows = {row.key: row for row in options(load_settings(environ), environ)}
    assert (rows["parallelism"].value, rows["parallelism"].source) == ("3", "env var")
    assert (rows["smtp_host"].value, rows["smtp_host"].source) == ("localhost", "default")
    assert (rows["smtp_password"].value, rows["smtp_password"].source) == (HIDDEN, "env var")
    assert rows["parallelism"].env_var == "ORCH_PARALLELISM"
    assert rows["parallelism"].meaning.startswith("task instances running at once")
    grouped = sections(list(rows.values()))
    assert [o.key for o in grouped["smtp"]][:2] == ["smtp_host", "smtp_port"]


def test_expose_config_reads_airflows_words():
    for raw, stored in [
        ("true", "True"),
        ("FALSE", "False"),
        ("non-sensitive-only", "non-sensitive-only"),
    ]:
        assert load_settings({"ORCH_EXPOSE_CONFIG": raw}).expose_config == stored
    assert load_settings({"ORCH_TEST_CONNECTION": "enabled"}).test_connection == "Enabled"


def test_a_word_airflow_would_not_take_is_refused_naming_the_variable():
    import pytest

    from orchestrator_site.config import SettingError

    with pytest.raises(SettingError, match="ORCH_EXPOSE_CONFIG='maybe'"):
        load_settings({"ORCH_EXPOSE_CONFIG": "maybe"})
    with pytest.raises(SettingError, match="ORCH_TEST_CONNECTION='sometimes'"):
        load_settings({"ORCH_TEST_CONNECTION": "sometimes"})
