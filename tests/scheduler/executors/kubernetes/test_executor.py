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


def use_pods_exiting_with(code: int, cluster, orch_settings, tmp_path) -> None:
    """Point the executor at the stand-in, with pods whose container exits with `code`."""
    use_pods_running(f"exit {code}", cluster, orch_settings, tmp_path)


def use_pods_running(script: str, cluster, orch_settings, tmp_path) -> None:
    """Point the executor at the stand-in, with pods whose container runs the shell `script`
    (the stand-in's pods are local processes: they see this test's files)."""
    template = tmp_path / "exits.yaml"
    container = {
        "name": "base",
        "image": "orchestrator:test",
        "command": ["sh", "-c", script],
    }
    template.write_text(yaml.safe_dump({"spec": {"containers": [container]}}))
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.kubernetes_config_file = cluster.kubeconfig
    orch_settings.kubernetes_pod_template_file = template


def test_an_older_pod_of_a_try_queued_again_does_not_report_its_end(
    kube_cluster,  # noqa: F811
    orch_settings,
    tmp_path,
):
    """A reschedule-mode sensor's try is queued again at the same try number while its older
    pod is still ending (or being deleted by the orphan check: exit code non-zero). Reported,
    that older end would fail the new run of the try; only the newer pod's end counts, as the
    local executor forgets an older runner of a re-queued try."""
    use_pods_exiting_with(3, kube_cluster, orch_settings, tmp_path)
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


def test_the_slots_in_use_are_logged_each_time_they_change(
    kube_cluster,  # noqa: F811
    orch_settings,
    tmp_path,
    caplog,
):
    """The scheduler's log is where a slot leak shows (the two-scheduler adoption e2e test
    reads it): one line per change, not one per sync."""
    # The pod ends only once the two syncs below have seen it running: a pod that ended before
    # the first sync (a fast machine) would leave no "1 of 4" line to check.
    go = tmp_path / "go"
    use_pods_running(
        f"while [ ! -e {go} ]; do sleep 0.05; done; exit 0", kube_cluster, orch_settings, tmp_path
    )
    executor = KubernetesExecutor(4)
    executor.start()
    caplog.set_level("INFO", logger="scheduler.executors.kubernetes.executor")
    try:
        executor.queue(workload(str(uuid.uuid4())))
        executor.sync()
        executor.sync()
        go.touch()
        wait_until(lambda: executor.sync() == [] and executor.running_count == 0, "the pod's end")
        executor.sync()
    finally:
        executor.end()
    slots = [r.getMessage() for r in caplog.records if "slots in use" in r.getMessage()]
    assert slots == [
        "Kubernetes executor: 1 of 4 slots in use",
        "Kubernetes executor: 0 of 4 slots in use",
    ]


def test_a_pod_of_its_own_it_stopped_watching_is_not_adopted_at_an_orphan_check(
    kube_cluster,  # noqa: F811
    orch_settings,
    tmp_path,
):
    """A pod whose runner could not claim its try (exit 4: the API was unreachable) ends and is
    kept (failed pods are, by default); its try stays queued at the same number under this
    scheduler, for its next pod. When an orphan check then takes over a dead scheduler's pods,
    this pod is not one of them: adopted again, its old end would be reported against the
    try's next pod."""
    from dagruns.domain.jobs import start_job
    from tests.builders import make_run, queue, ti_of

    use_pods_exiting_with(4, kube_cluster, orch_settings, tmp_path)
    me = start_job("scheduler")
    ti = queue(ti_of(make_run(), "extract"))
    ti.queued_by_job_id = me.pk
    ti.save(update_fields=["queued_by_job_id"])
    executor = KubernetesExecutor(4)
    executor.start()
    try:
        executor.on_scheduler_started(me.pk)
        executor.queue(workload(str(ti.pk)))
        events = []

        def pod_seen_ending() -> bool:
            events.extend(executor.sync())
            return executor.running_count == 0

        wait_until(pod_seen_ending, "the pod's end", timeout=120)
        assert [(e.ti_id, e.returncode) for e in events] == [(str(ti.pk), 4)]
        assert len(executor.api.list_namespaced_pod(executor.namespace).items) == 1  # kept
        assert executor.try_adopt_task_instances([ti], {}) == 0
        assert executor.running_count == 0 and executor.sync() == []
    finally:
        executor.end()
