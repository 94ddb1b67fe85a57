"""Merging pods as Airflow's PodGenerator.reconcile_pods does: the template, then the task's
`pod_override`, then what the executor itself must set, each over the one before.

Scalars of the later pod win where it sets them; labels and annotations are merged key by key;
lists that add up (the first container's env, envFrom, volumeMounts, ports, volumeDevices; the
pod's initContainers and volumes; metadata finalizers and ownerReferences) are concatenated;
containers are merged position by position (the first is the task's container, `base`).
"""

from __future__ import annotations

import copy
from typing import Any

from kubernetes.client import models as k8s


class PodMergeError(ValueError):
    """A field has a type the merge cannot combine (named in the message)."""


def reconcile_pods(base: k8s.V1Pod, client: k8s.V1Pod | None) -> k8s.V1Pod:
    if client is None:
        return base
    merged = copy.deepcopy(client)
    merged.spec = reconcile_specs(base.spec, merged.spec)
    merged.metadata = reconcile_metadata(base.metadata, merged.metadata)
    return merge_objects(base, merged)


def reconcile_metadata(base: Any, client: Any) -> Any:
    if base is None or client is None:
        return client if base is None else base
    client.labels = merge_objects(base.labels, client.labels)
    client.annotations = merge_objects(base.annotations, client.annotations)
    for name in ("managed_fields", "finalizers", "owner_references"):
        client = extend_object_field(base, client, name, "metadata")
    return merge_objects(base, client)


def reconcile_specs(base: Any, client: Any) -> Any:
    if base is None or client is None:
        return client if base is None else base
    client.containers = reconcile_containers(base.containers, client.containers)
    merged = extend_object_field(base, client, "init_containers", "spec")
    merged = extend_object_field(base, merged, "volumes", "spec")
    return merge_objects(base, merged)


def reconcile_containers(base: list[Any] | None, client: list[Any] | None) -> list[Any] | None:
    if not base:
        return client
    if not client:
        return base
    container = client[0]
    where = f"spec.containers[{container.name or 0}]"
    for name in ("volume_mounts", "env", "env_from", "ports", "volume_devices"):
        container = extend_object_field(base[0], container, name, where)
    container = merge_objects(base[0], container)
    return [container, *(reconcile_containers(base[1:], client[1:]) or [])]


def merge_objects(base: Any, client: Any) -> Any:
    """`client` with every attribute it leaves empty taken from `base`."""
    if not base:
        return client
    if not client:
        return base
    merged = copy.deepcopy(client)
    if isinstance(base, dict) and isinstance(merged, dict):
        return {**copy.deepcopy(base), **merged}
    for key in base.to_dict():
        value = getattr(base, key, None)
        if not getattr(client, key, None) and value:
            setattr(merged, key, value)
    return merged


def extend_object_field(base: Any, client: Any, name: str, where: str) -> Any:
    """`client` whose list `name` is base's items followed by client's."""
    merged = copy.deepcopy(client)
    base_items = getattr(base, name, None)
    client_items = getattr(client, name, None)
    for items in (base_items, client_items):
        if items is not None and not isinstance(items, list):
            raise PodMergeError(
                f"{where}.{_camel(name)} must be a list, not {type(items).__name__}"
            )
    if not base_items:
        return merged
    setattr(merged, name, base_items + (client_items or []))
    return merged


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
