"""The defaults `conf` gives for keys answered from ORCH_* settings are the settings' declared
defaults (the SDK repeats them, since it may not import orchestrator_site), and a value set in
the environment reads the same through both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dagruns.sdk.configuration import AirflowConfigParser
from dagruns.sdk.configuration.keys import KEYS, FromSetting
from orchestrator_site.config import OrchSettings, load_settings

FROM_SETTINGS = [
    (section, key, answer)
    for section, keys in KEYS.items()
    for key, answer in keys.items()
    if isinstance(answer, FromSetting)
]


def as_variable(value: Any) -> str | None:
    """A loaded setting written back the way its ORCH_* variable spells it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    import os

    for name in list(os.environ):
        if name.startswith(("ORCH_", "AIRFLOW__")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ORCH_HOME", str(tmp_path))
    return {"ORCH_HOME": str(tmp_path)}


def test_every_key_names_a_declared_setting():
    unknown = {answer.field for _, _, answer in FROM_SETTINGS} - set(OrchSettings.model_fields)
    assert not unknown


@pytest.mark.parametrize(("section", "key", "answer"), FROM_SETTINGS, ids=lambda v: str(v)[:40])
def test_defaults_equal_the_declared_settings(clean_env, section, key, answer):
    declared = as_variable(getattr(load_settings(clean_env), answer.field))
    conf = AirflowConfigParser()
    expected = answer.unset if declared is None else answer.spell(declared)
    assert conf.get(section, key, fallback=None) == expected


def test_values_set_in_the_environment_read_as_the_settings_read_them(clean_env, monkeypatch):
    given = {
        "ORCH_DAGS_FOLDER": "~/somewhere/../dags",
        "ORCH_PARALLELISM": "12",
        "ORCH_DAGS_ARE_PAUSED_AT_CREATION": "off",
        "ORCH_LOG_LEVEL": "debug",
        "ORCH_SMTP_USER": "mailer",
        "ORCH_KUBERNETES_CONFIG_FILE": "/etc/kube/config",
    }
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    settings = load_settings({**clean_env, **given})
    conf = AirflowConfigParser()
    assert conf.get("core", "dags_folder") == str(settings.dags_folder)
    assert Path(conf.get("core", "dags_folder")).is_absolute()
    assert conf.getint("core", "parallelism") == settings.parallelism
    assert conf.getboolean("core", "dags_are_paused_at_creation") is False
    assert conf.get("logging", "logging_level") == settings.log_level == "DEBUG"
    assert conf.get("smtp", "smtp_user") == settings.smtp_user
    assert conf.get("kubernetes_executor", "config_file") == str(settings.kubernetes_config_file)
