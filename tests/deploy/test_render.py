"""deploy/overlays/example renders offline and every object is valid Kubernetes."""

from __future__ import annotations

import pytest

from tests.deploy.manifests import WORKLOAD_KINDS, by_kind_and_name, containers, pod_spec

pytestmark = pytest.mark.sqlite_only  # no database: files and kubectl only, the same everywhere

EXPECTED = {
    ("Deployment", "orchestrator-api-server"),
    ("Service", "orchestrator-api-server"),
    ("Deployment", "orchestrator-scheduler"),
    ("Deployment", "orchestrator-dag-processor"),
    ("Deployment", "orchestrator-triggerer"),
    ("Deployment", "orchestrator-celery-beat"),
    ("Deployment", "orchestrator-celery-worker"),
    ("Job", "orchestrator-migrate"),
    ("ServiceAccount", "orchestrator"),
    ("ServiceAccount", "orchestrator-executor"),
    ("Role", "orchestrator-executor"),
    ("RoleBinding", "orchestrator-executor"),
    ("PersistentVolumeClaim", "orchestrator-dags"),
    ("PersistentVolumeClaim", "orchestrator-logs"),
    ("Namespace", "orchestrator"),
    ("PodDisruptionBudget", "orchestrator-api-server"),
    ("PodDisruptionBudget", "orchestrator-scheduler"),
}


def test_the_example_overlay_renders_every_process_and_its_supporting_objects(rendered):
    names = set(by_kind_and_name(rendered))
    assert names >= EXPECTED, f"missing: {sorted(EXPECTED - names)}"
    config_maps = [obj for obj in rendered if obj["kind"] == "ConfigMap"]
    assert [obj["metadata"]["name"].rsplit("-", 1)[0] for obj in config_maps] == [
        "orchestrator-config"
    ]


def test_every_rendered_object_validates_against_the_kubernetes_schema(rendered):
    import kubernetes_validate
    from kubernetes_validate.utils import latest_version

    version = latest_version()
    problems = []
    for obj in rendered:
        # strict: a misspelled or misplaced field is an error, not silently dropped.
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(part) for part in exc.path)
            problems.append(f"{obj['kind']}/{obj['metadata']['name']} at {where}: {exc.message}")
    # Outside the except block: the exception's text repeats the whole schema.
    assert not problems, f"invalid for Kubernetes {version}:\n" + "\n".join(problems)


def test_the_schema_check_refuses_a_misspelled_field(rendered):
    """The validation above can fail: the same object with one field misspelled does."""
    import copy

    import kubernetes_validate
    from kubernetes_validate.utils import latest_version

    deployment = copy.deepcopy(by_kind_and_name(rendered)["Deployment", "orchestrator-scheduler"])
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, latest_version(), strict=True)


def test_the_overlay_sets_namespace_and_image_everywhere(rendered):
    namespaced = [obj for obj in rendered if obj["kind"] != "Namespace"]
    assert {obj["metadata"].get("namespace") for obj in namespaced} == {"orchestrator"}
    images = {container.spec["image"] for container in containers(rendered)}
    assert images == {"registry.example.com/data-platform/orchestrator:0.1.0"}


def test_every_workload_runs_as_non_root_with_requests_and_limits(rendered):
    for container in containers(rendered):
        pod_security = container.pod.get("securityContext", {})
        assert pod_security.get("runAsNonRoot") is True, f"{container}: runAsNonRoot"
        assert pod_security.get("runAsUser", 0) != 0, f"{container}: runs as root"
        security = container.spec.get("securityContext", {})
        assert security.get("allowPrivilegeEscalation") is False, str(container)
        assert security.get("capabilities", {}).get("drop") == ["ALL"], str(container)
        resources = container.spec.get("resources", {})
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(bound, {})), f"{container}: {bound}"


def test_the_dags_volume_is_read_write_many_and_mounted_at_orch_dags_folder(rendered):
    objects = by_kind_and_name(rendered)
    assert objects["PersistentVolumeClaim", "orchestrator-dags"]["spec"]["accessModes"] == [
        "ReadWriteMany"
    ]
    config = next(obj for obj in rendered if obj["kind"] == "ConfigMap")["data"]
    mounted_by = set()
    for obj in rendered:
        if obj["kind"] not in WORKLOAD_KINDS:
            continue
        spec = pod_spec(obj)
        claims = {
            volume["name"]: volume["persistentVolumeClaim"]["claimName"]
            for volume in spec.get("volumes", [])
            if "persistentVolumeClaim" in volume
        }
        for container in spec["containers"]:
            for mount in container.get("volumeMounts", []):
                if claims.get(mount["name"]) == "orchestrator-dags":
                    assert mount["mountPath"] == config["ORCH_DAGS_FOLDER"], obj["metadata"]
                    mounted_by.add(obj["metadata"]["name"])
    # Whatever parses or runs DAG files sees them at the same path.
    assert {
        "orchestrator-scheduler",
        "orchestrator-dag-processor",
        "orchestrator-triggerer",
        "orchestrator-celery-worker",
    } <= mounted_by


def test_each_disruption_budget_selects_the_pods_of_its_deployment(rendered):
    objects = by_kind_and_name(rendered)
    budgets = [obj for obj in rendered if obj["kind"] == "PodDisruptionBudget"]
    for budget in budgets:
        name = budget["metadata"]["name"]
        labels = objects["Deployment", name]["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
        assert budget["spec"]["minAvailable"] < objects["Deployment", name]["spec"]["replicas"]
