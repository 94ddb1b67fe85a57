"""The KubernetesExecutor driven call by call (no scheduler) against the stand-in cluster."""

from __future__ import annotations

import uuid

import pytest
import yaml

from scheduler.executors.kubernetes.executor import KubernetesExecutor
from scheduler.runner.workload import WORKLOAD_VERSION, Workload
from tests.kube.fixtures import kube_cluster  # noqa: F401 — the stand-in, as a fixture
from tests.polling import wait_until

pytestmark = pytest.mark.django_db  # an ended pod's try state is read from the database


def workload(ti_id: str) -> Workload:
    return Workload(
        version=WORKLOAD_VERSION,
        ti_id=ti_id,
        dag_id="d",
        run_id="r",
        task_id="sensor",
        try_number=1,
        dag_fileloc="/dags/d.py",
        dags_folder="/dags",
        token="token",
        api_url="http://127.0.0.1:9",
    )


def test_an_older_pod_of_a_try_queued_again_does_not_report_its_end(
    kube_cluster,  # noqa: F811
    orch_settings,
    tmp_path,
):
    """A reschedule-mode sensor's try is queued again at the same try number while its older
    pod is still ending (or being deleted by the orphan check: exit code non-zero). Reported,
    that older end would fail the new run of the try; only the newer pod's end counts, as the
    local executor forgets an older runner of a re-queued try."""
    template = tmp_path / "exits.yaml"
    container = {"name": "base", "image": "orchestrator:test", "command": ["sh", "-c", "exit 3"]}
    template.write_text(yaml.safe_dump({"spec": {"containers": [container]}}))
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.kubernetes_config_file = kube_cluster.kubeconfig
    orch_settings.kubernetes_pod_template_file = template
    executor = KubernetesExecutor(4)
    executor.start()
    try:
        ti_id = str(uuid.uuid4())
        executor.queue(workload(ti_id))
        executor.queue(workload(ti_id))  # the same try again, before the first pod's end
        assert executor.running_count == 2
        events = []

        def both_pods_seen_ending() -> bool:
            events.extend(executor.sync())
            return executor.running_count == 0

        wait_until(both_pods_seen_ending, "the ends of both pods", timeout=120)
    finally:
        executor.end()
    assert [(e.ti_id, e.try_number, e.returncode) for e in events] == [(ti_id, 1, 3)]
