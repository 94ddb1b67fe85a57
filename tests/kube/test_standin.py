"""The stand-in cluster through the unchanged official client: what our executor relies on
must behave as a real API server and kubelet do."""

from __future__ import annotations

import base64
import shutil
import subprocess
from typing import Any

import kubernetes
import pytest
from kubernetes.client import CoreV1Api
from kubernetes.client.rest import ApiException

from scheduler.kube_standin.standin import KubeStandIn
from tests.kube.pods import (
    NS,
    log_of,
    message,
    python_pod,
    start_sleeper,
    terminated,
    wait_phase,
    watch_events,
)
from tests.polling import wait_until


# --- the pod's life ---------------------------------------------------------------------------
def test_a_pod_runs_its_command_and_reports_phases_exit_code_and_log(kube_api: CoreV1Api) -> None:
    created = kube_api.create_namespaced_pod(
        NS, python_pod("hello", "import os; print('hello from', os.environ['HOSTNAME'])")
    )
    assert created.status.phase == "Pending"
    assert created.metadata.uid and created.metadata.resource_version

    events = watch_events(
        kube_api,
        lambda evs: evs[-1][1].status.phase == "Succeeded",
        resource_version=created.metadata.resource_version,
    )
    phases = [obj.status.phase for _, obj in events]
    assert phases.index("Running") < phases.index("Succeeded")
    final = terminated(events[-1][1])
    assert (final.exit_code, final.reason) == (0, "Completed")
    assert log_of(kube_api, "hello") == "hello from hello\n"


def test_a_failing_container_reports_its_exit_code_and_error(kube_api: CoreV1Api) -> None:
    kube_api.create_namespaced_pod(
        NS, python_pod("fails", "import sys; print('bad', file=sys.stderr); sys.exit(3)")
    )
    pod = wait_phase(kube_api, "fails", "Succeeded", "Failed")
    assert pod.status.phase == "Failed"
    assert (terminated(pod).exit_code, terminated(pod).reason) == (3, "Error")
    assert log_of(kube_api, "fails") == "bad\n"  # stderr is in the log too


def test_get_list_by_label_and_field_selectors(kube_api: CoreV1Api) -> None:
    kube_api.create_namespaced_pod(NS, python_pod("one", "pass", labels={"dag": "a", "try": "1"}))
    kube_api.create_namespaced_pod(NS, python_pod("two", "pass", labels={"dag": "b", "try": "1"}))
    assert kube_api.read_namespaced_pod("one", NS).metadata.labels == {"dag": "a", "try": "1"}
    assert kube_api.read_namespaced_pod_status("one", NS).metadata.name == "one"

    def names(**kwargs: Any) -> list[str]:
        return [p.metadata.name for p in kube_api.list_namespaced_pod(NS, **kwargs).items]

    assert names(label_selector="dag=a") == ["one"]
    assert names(label_selector="try=1,dag!=a") == ["two"]
    assert names(label_selector="dag in (a,b)") == ["one", "two"]
    assert names(label_selector="!dag") == []
    assert names(field_selector="metadata.name=two") == ["two"]
    wait_phase(kube_api, "one", "Succeeded")
    assert names(field_selector="status.phase=Succeeded", label_selector="dag=a") == ["one"]
    all_pods = kubernetes.client.CoreV1Api(kube_api.api_client).list_pod_for_all_namespaces()
    assert {p.metadata.name for p in all_pods.items} == {"one", "two"}
    with pytest.raises(ApiException) as bad:
        kube_api.list_namespaced_pod(NS, field_selector="spec.color=blue")
    assert bad.value.status == 400


def test_list_pages_with_limit_and_continue(kube_api: CoreV1Api) -> None:
    for i in range(3):
        kube_api.create_namespaced_pod(NS, python_pod(f"page-{i}", "pass"))
    first = kube_api.list_namespaced_pod(NS, limit=2)
    assert [p.metadata.name for p in first.items] == ["page-0", "page-1"]
    rest = kube_api.list_namespaced_pod(NS, limit=2, _continue=first.metadata._continue)
    assert [p.metadata.name for p in rest.items] == ["page-2"]
    assert rest.metadata._continue is None


def test_delete_sends_sigterm_and_the_pod_leaves_after_its_container(kube_api: CoreV1Api) -> None:
    start_sleeper(
        kube_api,
        "graceful",
        "import signal\nsignal.signal(signal.SIGTERM, lambda *a: (print('TERM', flush=True), sys.exit(0)))",
    )
    since = kube_api.read_namespaced_pod("graceful", NS).metadata.resource_version
    deleted = kube_api.delete_namespaced_pod("graceful", NS, grace_period_seconds=60)
    assert deleted.metadata.deletion_timestamp is not None

    events = watch_events(kube_api, lambda evs: evs[-1][0] == "DELETED", resource_version=since)
    before_delete = events[-2][1]
    assert (terminated(before_delete).exit_code, before_delete.status.phase) == (0, "Succeeded")
    with pytest.raises(ApiException) as gone:
        kube_api.read_namespaced_pod("graceful", NS)
    assert gone.value.status == 404


def test_a_container_ignoring_sigterm_is_killed_after_the_grace_period(kube_api: CoreV1Api) -> None:
    start_sleeper(
        kube_api, "stubborn", "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)"
    )
    since = kube_api.read_namespaced_pod("stubborn", NS).metadata.resource_version
    kube_api.delete_namespaced_pod("stubborn", NS, grace_period_seconds=1)
    events = watch_events(kube_api, lambda evs: evs[-1][0] == "DELETED", resource_version=since)
    last_state = terminated(events[-2][1])
    assert (last_state.exit_code, last_state.reason) == (137, "Error")


def test_a_pending_pod_is_deleted_at_once(kube_cluster: KubeStandIn, kube_api: CoreV1Api) -> None:
    kube_cluster.unschedulable()
    kube_api.create_namespaced_pod(NS, python_pod("never-runs", "pass"))
    kube_api.delete_namespaced_pod("never-runs", NS)
    assert kube_api.list_namespaced_pod(NS).items == []


def test_log_follow_and_tail_lines(kube_api: CoreV1Api) -> None:
    kube_api.create_namespaced_pod(NS, python_pod("talker", "for i in range(5): print('line', i)"))
    followed = kube_api.read_namespaced_pod_log("talker", NS, follow=True, _preload_content=False)
    assert followed.data.decode() == "".join(f"line {i}\n" for i in range(5))
    assert kube_api.read_namespaced_pod_log("talker", NS, tail_lines=2) == "line 3\nline 4\n"


def test_log_of_a_container_not_started_yet_is_a_400(
    kube_cluster: KubeStandIn, kube_api: CoreV1Api
) -> None:
    kube_cluster.unschedulable()
    kube_api.create_namespaced_pod(NS, python_pod("waiting", "pass"))
    with pytest.raises(ApiException) as waiting:
        kube_api.read_namespaced_pod_log("waiting", NS)
    assert waiting.value.status == 400
    assert message(waiting.value).startswith(
        'container "base" in pod "waiting" is waiting to start'
    )


# --- secrets ----------------------------------------------------------------------------------
def test_env_from_a_secret_and_garbage_collection_with_the_owning_pod(kube_api: CoreV1Api) -> None:
    pod = kube_api.create_namespaced_pod(
        NS,
        python_pod(
            "with-secret",
            "import os; print(os.environ['TOKEN'], os.environ['PLAIN'])",
            env=[
                {"name": "PLAIN", "value": "plain"},
                {
                    "name": "TOKEN",
                    "valueFrom": {"secretKeyRef": {"name": "try-token", "key": "token"}},
                },
            ],
        ),
    )
    # The pod waits for its secret, as a kubelet does (CreateContainerConfigError), …
    wait_until(
        lambda: (
            (s := kube_api.read_namespaced_pod("with-secret", NS).status.container_statuses)
            and s[0].state.waiting.reason == "CreateContainerConfigError"
        ),
        "the missing secret to be reported",
    )
    kube_api.delete_namespaced_pod("with-secret", NS)
    # … so create the secret first, owned by the pod that needs it.
    pod = kube_api.create_namespaced_pod(NS, python_pod("owner", "print(open('/dev/null').read())"))
    owner = {"apiVersion": "v1", "kind": "Pod", "name": "owner", "uid": pod.metadata.uid}
    secret = kube_api.create_namespaced_secret(
        NS,
        {
            "metadata": {"name": "try-token", "ownerReferences": [owner]},
            "stringData": {"token": "s3cret"},
        },
    )
    assert base64.b64decode(secret.data["token"]) == b"s3cret"
    kube_api.create_namespaced_pod(
        NS,
        python_pod(
            "reader",
            "import os; print(os.environ['TOKEN'])",
            env=[
                {
                    "name": "TOKEN",
                    "valueFrom": {"secretKeyRef": {"name": "try-token", "key": "token"}},
                }
            ],
        ),
    )
    wait_phase(kube_api, "reader", "Succeeded")
    assert log_of(kube_api, "reader") == "s3cret\n"
    assert "s3cret" not in str(kube_api.read_namespaced_pod("reader", NS).to_dict())

    kube_api.delete_namespaced_pod("owner", NS)
    # The garbage collector works after the owner is gone, not during the delete call.
    wait_until(lambda: secret_names(kube_api) == [], "the owned secret to be collected")


def secret_names(api: CoreV1Api) -> list[str]:
    return [s.metadata.name for s in api.list_namespaced_secret(NS).items]


def test_secret_create_get_delete(kube_api: CoreV1Api) -> None:
    kube_api.create_namespaced_secret(NS, {"metadata": {"name": "s"}, "data": {"k": "dg=="}})
    assert kube_api.read_namespaced_secret("s", NS).data == {"k": "dg=="}
    with pytest.raises(ApiException) as exists:
        kube_api.create_namespaced_secret(NS, {"metadata": {"name": "s"}})
    assert (exists.value.status, message(exists.value)) == (409, 'secrets "s" already exists')
    kube_api.delete_namespaced_secret("s", NS)
    assert secret_names(kube_api) == []
    with pytest.raises(ApiException) as gone:
        kube_api.delete_namespaced_secret("s", NS)
    assert gone.value.status == 404


# --- namespaces and errors --------------------------------------------------------------------
def test_namespaces(kube_api: CoreV1Api) -> None:
    assert kube_api.read_namespace("default").status.phase == "Active"
    kube_api.create_namespace({"metadata": {"name": "tasks"}})
    assert "tasks" in {n.metadata.name for n in kube_api.list_namespace().items}
    kube_api.create_namespaced_pod("tasks", python_pod("there", "pass"))
    assert [p.metadata.name for p in kube_api.list_namespaced_pod("tasks").items] == ["there"]
    with pytest.raises(ApiException) as missing:
        kube_api.create_namespaced_pod("nowhere", python_pod("lost", "pass"))
    assert missing.value.status == 404
    assert message(missing.value) == 'namespaces "nowhere" not found'


def test_errors_are_statuses_like_the_api_servers(kube_api: CoreV1Api) -> None:
    with pytest.raises(ApiException) as not_found:
        kube_api.read_namespaced_pod("ghost", NS)
    assert not_found.value.status == 404 and "NotFound" in not_found.value.body

    kube_api.create_namespaced_pod(NS, python_pod("twice", "pass"))
    with pytest.raises(ApiException) as exists:
        kube_api.create_namespaced_pod(NS, python_pod("twice", "pass"))
    assert exists.value.status == 409 and "AlreadyExists" in exists.value.body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p["spec"]["containers"][0].pop("image"), "spec.containers[0].image"),
        (lambda p: p["spec"].update(containers=[]), "spec.containers"),
        (lambda p: p["metadata"].update(name="Not_A_Name"), "metadata.name"),
        (
            lambda p: p["metadata"]["labels"].update(run="2024-01-01T00:00:00+00:00"),
            "metadata.labels",
        ),
        (lambda p: p["metadata"]["labels"].update(dag="x" * 64), "metadata.labels"),
        (
            lambda p: p["spec"]["containers"][0].update(env=[{"name": "1BAD", "value": ""}]),
            "spec.containers[0].env[0].name",
        ),
        (lambda p: p["spec"].update(restartPolicy="Always"), "spec.restartPolicy"),
        (
            lambda p: p["spec"]["containers"].append({"name": "side", "image": "x"}),
            "spec.containers",
        ),
        (
            lambda p: p["spec"].update(initContainers=[{"name": "i", "image": "x"}]),
            "spec.initContainers",
        ),
        (lambda p: p["spec"].update(activeDeadlineSeconds=0), "spec.activeDeadlineSeconds"),
    ],
)
def test_a_malformed_pod_is_422_naming_the_field(
    kube_api: CoreV1Api, change: Any, field: str
) -> None:
    pod = python_pod("malformed", "pass")
    change(pod)
    with pytest.raises(ApiException) as invalid:
        kube_api.create_namespaced_pod(NS, pod)
    assert invalid.value.status == 422
    name = pod["metadata"]["name"]
    assert message(invalid.value).startswith(f'Pod "{name}" is invalid: {field}: ')


def test_patch_labels_with_merge_patch_and_optimistic_concurrency(kube_api: CoreV1Api) -> None:
    pod = kube_api.create_namespaced_pod(NS, python_pod("patched", "pass"))
    merged = kube_api.patch_namespaced_pod(
        "patched",
        NS,
        {"metadata": {"labels": {"adopted-by": "scheduler-2"}, "annotations": {"why": "restart"}}},
        _content_type="application/merge-patch+json",
    )
    assert merged.metadata.labels == {"app": "standin-test", "adopted-by": "scheduler-2"}
    assert merged.metadata.annotations == {"why": "restart"}
    # A patch carrying a stale resourceVersion loses, as when two schedulers race to adopt.
    stale = {
        "metadata": {
            "resourceVersion": pod.metadata.resource_version,
            "labels": {"adopted-by": "x"},
        }
    }
    with pytest.raises(ApiException) as lost:
        kube_api.patch_namespaced_pod(
            "patched", NS, stale, _content_type="application/strategic-merge-patch+json"
        )
    assert lost.value.status == 409 and "Conflict" in lost.value.body
    ops = [{"op": "remove", "path": "/metadata/labels/adopted-by"}]
    assert kube_api.patch_namespaced_pod("patched", NS, ops).metadata.labels == {
        "app": "standin-test"
    }
    with pytest.raises(ApiException) as spec_change:
        kube_api.patch_namespaced_pod(
            "patched",
            NS,
            {"spec": {"nodeName": "elsewhere"}},
            _content_type="application/merge-patch+json",
        )
    assert spec_change.value.status == 422


# --- watches ----------------------------------------------------------------------------------
def test_watch_without_resource_version_starts_with_the_current_pods(kube_api: CoreV1Api) -> None:
    kube_api.create_namespaced_pod(NS, python_pod("existing", "pass"))
    events = watch_events(kube_api, lambda evs: True)
    assert (events[0][0], events[0][1].metadata.name) == ("ADDED", "existing")


def test_watch_by_label_sees_a_pod_leave_its_selection_as_deleted(kube_api: CoreV1Api) -> None:
    pod = kube_api.create_namespaced_pod(NS, python_pod("leaver", "pass", labels={"owner": "me"}))
    kube_api.patch_namespaced_pod(
        "leaver",
        NS,
        {"metadata": {"labels": {"owner": "you"}}},
        _content_type="application/merge-patch+json",
    )
    events = watch_events(
        kube_api,
        lambda evs: evs[-1][0] == "DELETED",
        label_selector="owner=me",
        resource_version=pod.metadata.resource_version,
    )
    assert events[-1][1].metadata.labels == {"owner": "you"}


def test_watch_from_a_compacted_resource_version_is_410_gone(
    kube_cluster: KubeStandIn, kube_api: CoreV1Api
) -> None:
    old = kube_api.create_namespaced_pod(NS, python_pod("old", "pass")).metadata.resource_version
    wait_phase(kube_api, "old", "Succeeded")
    kube_cluster.compact()
    with pytest.raises(ApiException) as gone:
        # The client retries once after a 410 from its last resourceVersion, then raises.
        watch_events(kube_api, lambda evs: True, resource_version=old)
    assert gone.value.status == 410
    # Relisting gives a resourceVersion a watch can resume from.
    current = kube_api.list_namespaced_pod(NS).metadata.resource_version
    kube_api.create_namespaced_pod(NS, python_pod("new", "pass"))
    events = watch_events(kube_api, lambda evs: True, resource_version=current)
    assert (events[0][0], events[0][1].metadata.name) == ("ADDED", "new")


def test_active_deadline_seconds_fails_the_pod(kube_api: CoreV1Api) -> None:
    pod = python_pod("too-long", "import time; print('ready', flush=True); time.sleep(600)")
    pod["spec"]["activeDeadlineSeconds"] = 1
    kube_api.create_namespaced_pod(NS, pod)
    failed = wait_until(
        lambda: (p := kube_api.read_namespaced_pod("too-long", NS)).status.reason and p,
        "the deadline to pass",
    )
    assert (failed.status.phase, failed.status.reason) == ("Failed", "DeadlineExceeded")
    assert terminated(failed).exit_code == 137


def test_delete_options_orphan_and_preconditions(kube_api: CoreV1Api) -> None:
    pod = kube_api.create_namespaced_pod(NS, python_pod("parent", "pass"))
    owner = {"apiVersion": "v1", "kind": "Pod", "name": "parent", "uid": pod.metadata.uid}
    kube_api.create_namespaced_secret(
        NS, {"metadata": {"name": "kept", "ownerReferences": [owner]}}
    )
    with pytest.raises(ApiException) as wrong_pod:
        kube_api.delete_namespaced_pod(
            "parent", NS, body={"preconditions": {"uid": "someone-else"}}
        )
    assert wrong_pod.value.status == 409 and "Precondition failed" in message(wrong_pod.value)
    kube_api.delete_namespaced_pod(
        "parent", NS, propagation_policy="Orphan", grace_period_seconds=0
    )
    wait_until(lambda: kube_api.list_namespaced_pod(NS).items == [], "the pod to leave")
    assert secret_names(kube_api) == ["kept"]


def test_a_watch_whose_client_left_is_closed(
    kube_cluster: KubeStandIn, kube_api: CoreV1Api
) -> None:
    response = kube_api.list_namespaced_pod(NS, watch=True, _preload_content=False)
    wait_until(lambda: kube_cluster.inspect(lambda c: len(c.store.watchers)) == 1, "the watch")
    response.close()  # what Watch.stop() leads to: the socket is closed, not reused
    wait_until(
        lambda: kube_cluster.inspect(lambda c: len(c.store.watchers)) == 0, "the watch to close"
    )


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs Debian's kubectl")
def test_kubectl_reads_it_for_debugging_by_hand(
    kube_cluster: KubeStandIn, kube_api: CoreV1Api
) -> None:
    kube_api.create_namespaced_pod(NS, python_pod("by-hand", "print('hi')"))
    wait_phase(kube_api, "by-hand", "Succeeded")

    def kubectl(*args: str) -> str:
        command = ["kubectl", "--kubeconfig", str(kube_cluster.kubeconfig), *args]
        return subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=120
        ).stdout

    assert "by-hand" in kubectl("get", "pods")
    assert kubectl("logs", "by-hand") == "hi\n"
