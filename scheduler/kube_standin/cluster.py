"""The stand-in's control plane: what the API server, the garbage collector and the node do
with pods, secrets and namespaces, on top of the store and the kubelet. The HTTP layer
(scheduler.kube_standin.api) only translates requests into these calls."""

from __future__ import annotations

import copy
import random
from typing import Any

from scheduler.kube_standin.kubelet import Kubelet, PodRuntime
from scheduler.kube_standin.patching import apply_patch
from scheduler.kube_standin.selectors import Predicate
from scheduler.kube_standin.statuses import ApiError, conflict, invalid, not_found
from scheduler.kube_standin.store import Store, now_iso
from scheduler.kube_standin.validation import normalize_secret, validate_namespace, validate_pod

DEFAULT_NAMESPACES = ("default", "kube-system")
DEFAULT_GRACE_SECONDS = 30
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # what the API server's generateName uses


class Cluster:
    def __init__(self) -> None:
        self.store = Store()
        self.kubelet = Kubelet(self)
        self.orphaned: set[str] = set()  # uids deleted with propagationPolicy Orphan
        for name in DEFAULT_NAMESPACES:
            self.create_namespace({"metadata": {"name": name}})

    # --- namespaces --------------------------------------------------------------------------
    def create_namespace(self, body: dict[str, Any]) -> dict[str, Any]:
        body = _with_kind(body, "Namespace")
        validate_namespace(body)
        name = body["metadata"]["name"]
        labels = body["metadata"].setdefault("labels", {}) or {}
        labels["kubernetes.io/metadata.name"] = name
        body["metadata"]["labels"] = labels
        body["spec"] = {"finalizers": ["kubernetes"]}
        body["status"] = {"phase": "Active"}
        return self.store.create("namespaces", "", body)

    def _require_namespace(self, namespace: str) -> None:
        if self.store.find("namespaces", "", namespace) is None:
            raise not_found("namespaces", namespace)

    # --- pods --------------------------------------------------------------------------------
    def create_pod(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        body = _with_kind(body, "Pod")
        _check_namespace_matches(body, namespace, "Pod")
        self._require_namespace(namespace)
        _generate_name(body)
        validate_pod(body)
        spec = body["spec"]
        spec.setdefault("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("serviceAccountName", "default")
        body["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        pod = self.store.create("pods", namespace, body)
        self.kubelet.start(pod)
        return pod

    def delete_pod(
        self,
        namespace: str,
        name: str,
        grace_seconds: int | None,
        *,
        orphan: bool = False,
        preconditions: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Graceful deletion: mark the pod, SIGTERM its container, SIGKILL after the grace
        period; the pod leaves the API when its container has stopped. A pod with nothing
        running leaves at once. Its dependents are collected unless `orphan`."""
        pod = self.store.get("pods", namespace, name)
        _check_preconditions(pod, "pods", preconditions)
        if orphan:
            self.orphaned.add(pod["metadata"]["uid"])
        runtime = self.kubelet.pods.get(pod["metadata"]["uid"])
        if grace_seconds is None:
            grace_seconds = pod["spec"].get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
        if runtime is None or not self.kubelet.terminate(runtime, grace_seconds):
            return self._remove_pod(namespace, name)
        if pod["metadata"].get("deletionTimestamp"):
            return pod

        def mark(obj: dict[str, Any]) -> None:
            obj["metadata"]["deletionTimestamp"] = now_iso()
            obj["metadata"]["deletionGracePeriodSeconds"] = grace_seconds

        return self.store.update("pods", namespace, name, mark)

    def container_finished(self, runtime: PodRuntime) -> None:
        """The kubelet saw the container stop: a pod being deleted now leaves the API."""
        pod = self.store.find("pods", runtime.namespace, runtime.name)
        if pod is None or pod["metadata"]["uid"] != runtime.uid:
            return
        if pod["metadata"].get("deletionTimestamp"):
            self._remove_pod(runtime.namespace, runtime.name)

    def _remove_pod(self, namespace: str, name: str) -> dict[str, Any]:
        pod = self.store.remove("pods", namespace, name)
        runtime = self.kubelet.pods.get(pod["metadata"]["uid"])
        if runtime is not None:
            self.kubelet.forget(runtime)
        uid = pod["metadata"]["uid"]
        if uid in self.orphaned:
            self.orphaned.discard(uid)
        else:
            self._collect_garbage(uid)
        return pod

    def _collect_garbage(self, owner_uid: str) -> None:
        """Delete the dependents of a deleted owner, as the garbage collector does."""
        for plural in ("secrets", "pods"):
            for obj in self.store.list(plural, None, lambda _o: True):
                owners = obj["metadata"].get("ownerReferences") or []
                if any(ref.get("uid") == owner_uid for ref in owners):
                    meta = obj["metadata"]
                    if plural == "pods":
                        self.delete_pod(meta["namespace"], meta["name"], None)
                    else:
                        self.delete_secret(meta["namespace"], meta["name"])

    def pod_runtime(self, namespace: str, name: str) -> PodRuntime:
        pod = self.store.get("pods", namespace, name)
        runtime = self.kubelet.pods.get(pod["metadata"]["uid"])
        if runtime is None:
            raise not_found("pods", name)
        return runtime

    # --- secrets -----------------------------------------------------------------------------
    def create_secret(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        body = _with_kind(body, "Secret")
        _check_namespace_matches(body, namespace, "Secret")
        self._require_namespace(namespace)
        _generate_name(body)
        return self.store.create("secrets", namespace, normalize_secret(body))

    def delete_secret(
        self,
        namespace: str,
        name: str,
        *,
        orphan: bool = False,
        preconditions: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        _check_preconditions(self.store.get("secrets", namespace, name), "secrets", preconditions)
        secret = self.store.remove("secrets", namespace, name)
        if not orphan:
            self._collect_garbage(secret["metadata"]["uid"])
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": name, "kind": "secrets", "uid": secret["metadata"]["uid"]},
        }

    # --- generic -----------------------------------------------------------------------------
    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any]:
        return self.store.get(plural, namespace, name)

    def list(self, plural: str, namespace: str | None, matches: Predicate) -> list[dict[str, Any]]:
        if namespace:
            self._require_namespace(namespace)
        return self.store.list(plural, namespace, matches)

    def patch(
        self, plural: str, namespace: str, name: str, content_type: str, patch: Any
    ) -> dict[str, Any]:
        current = self.store.get(plural, namespace, name)
        patched = apply_patch(current, content_type, patch)
        kind = current.get("kind", plural)
        wanted_version = (patched.get("metadata") or {}).get("resourceVersion")
        if wanted_version and wanted_version != current["metadata"]["resourceVersion"]:
            raise conflict(plural, name)
        for identity in ("name", "namespace", "uid", "creationTimestamp"):
            if patched["metadata"].get(identity) != current["metadata"].get(identity):
                raise invalid(
                    kind, name, f"metadata.{identity}", "FieldValueInvalid", "field is immutable"
                )
        if plural == "pods":
            for part in ("spec", "status"):
                if patched.get(part) != current.get(part):
                    raise invalid(
                        kind,
                        name,
                        part,
                        "FieldValueForbidden",
                        "Forbidden: the test stand-in lets a pod patch change metadata only "
                        "(labels, annotations, ownerReferences)",
                    )
            validate_pod(patched)
        elif plural == "secrets":
            patched = normalize_secret(patched)

        def replace(obj: dict[str, Any]) -> None:
            obj.clear()
            obj.update(copy.deepcopy(patched))

        return self.store.update(plural, namespace, name, replace)


def _check_preconditions(
    obj: dict[str, Any], plural: str, preconditions: dict[str, str] | None
) -> None:
    """DeleteOptions.preconditions: delete only the object the caller meant."""
    meta = obj["metadata"]
    for field, actual in (("uid", meta["uid"]), ("resourceVersion", meta["resourceVersion"])):
        wanted = (preconditions or {}).get(field)
        if wanted and wanted != actual:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {plural} "{meta["name"]}": Precondition '
                f"failed: {field.replace('resourceVersion', 'ResourceVersion').replace('uid', 'UID')} "
                f"in precondition: {wanted}, {field.replace('resourceVersion', 'ResourceVersion').replace('uid', 'UID')} in object meta: {actual}",
                kind=plural,
                name=meta["name"],
            )


def _with_kind(body: dict[str, Any], kind: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", f"the body of the request was not a {kind} object")
    body = copy.deepcopy(body)
    body["kind"] = kind
    body["apiVersion"] = "v1"
    body["metadata"] = dict(body.get("metadata") or {})
    return body


def _check_namespace_matches(body: dict[str, Any], namespace: str, kind: str) -> None:
    given = body["metadata"].get("namespace")
    if given and given != namespace:
        raise ApiError(
            400,
            "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the request",
        )


def _generate_name(body: dict[str, Any]) -> None:
    meta = body["metadata"]
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = meta["generateName"] + "".join(random.choices(_SUFFIX_ALPHABET, k=5))
