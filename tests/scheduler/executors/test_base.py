"""`load_executor` (scheduler/executors/base.py) and the names ORCH_EXECUTOR accepts agree."""

from __future__ import annotations

import pytest

from orchestrator_site.config import EXECUTOR_NAMES
from scheduler.executors.base import load_executor

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


@pytest.mark.parametrize("name", EXECUTOR_NAMES)
def test_every_executor_the_setting_accepts_can_be_built(name, orch_settings, tmp_path):
    orch_settings.celery_broker_url = "redis://127.0.0.1:1/0"  # not contacted until start()
    orch_settings.kubernetes_config_file = tmp_path / "kubeconfig"  # nor this cluster
    orch_settings.kubernetes_config_file.write_text(KUBECONFIG)
    executor = load_executor(name, 2)
    try:
        assert executor.name == name
        assert executor.executor_for(None) == name
        assert executor.open_slots_by_executor() == {name: 2}
    finally:
        executor.end()
