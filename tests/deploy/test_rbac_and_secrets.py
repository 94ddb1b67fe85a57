"""What deploy/ grants and what it reveals: the executors may manage pods and their token
Secrets and nothing more; secret values are referenced, never written into the manifests."""

from __future__ import annotations

import pytest

from orchestrator_site.config import OrchSettings, env_name
from tests.deploy.manifests import by_kind_and_name, containers, pod_spec

pytestmark = pytest.mark.sqlite_only  # no database: it reads files

# Exactly what the Kubernetes executor and its garbage collection call.
ALLOWED = {
    ("", "pods"): {"create", "get", "list", "watch", "delete", "patch"},
    ("", "pods/log"): {"get"},
    ("", "secrets"): {"create", "get", "patch", "delete"},
}
SECRET_SETTINGS = {"ORCH_DATABASE_URL", "ORCH_REDIS_URL", "ORCH_SECRET_KEY", "ORCH_FERNET_KEY"}
# The processes that manage pods (executor, `celery worker --pods`, beat's pod GC).
EXECUTOR_PODS = {
    "orchestrator-scheduler",
    "orchestrator-celery-worker",
    "orchestrator-celery-beat",
}


def granted(rendered) -> dict[tuple[str, str], set[str]]:
    grants: dict[tuple[str, str], set[str]] = {}
    for obj in rendered:
        if obj["kind"] not in ("Role", "ClusterRole"):
            continue
        for rule in obj.get("rules", []):
            assert not rule.get("resourceNames"), "rules are by resource, not by name"
            assert not rule.get("nonResourceURLs"), f"{obj['metadata']['name']}: non-resource"
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    grants.setdefault((group, resource), set()).update(rule["verbs"])
    return grants


def test_the_executor_role_grants_exactly_pods_their_logs_and_token_secrets(rendered):
    assert not [obj for obj in rendered if obj["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    grants = granted(rendered)
    for key, verbs in grants.items():
        assert "*" not in verbs and "*" not in key, f"wildcard in {key}: {verbs}"
    assert grants == ALLOWED


def test_the_role_is_bound_to_the_account_only_executor_pods_use(rendered):
    objects = by_kind_and_name(rendered)
    binding = objects["RoleBinding", "orchestrator-executor"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "orchestrator-executor",
    }
    assert [(s["kind"], s["name"]) for s in binding["subjects"]] == [
        ("ServiceAccount", "orchestrator-executor")
    ]
    for obj in rendered:
        if obj["kind"] not in ("Deployment", "Job"):
            continue
        spec = pod_spec(obj)
        name = obj["metadata"]["name"]
        if name in EXECUTOR_PODS:
            assert spec["serviceAccountName"] == "orchestrator-executor", name
        else:
            # No Kubernetes API token at all in pods that never call the API.
            assert spec["serviceAccountName"] == "orchestrator", name
            assert spec["automountServiceAccountToken"] is False, name


def test_no_secret_value_is_rendered(rendered):
    assert not [obj for obj in rendered if obj["kind"] == "Secret"]
    config = [obj for obj in rendered if obj["kind"] == "ConfigMap"]
    for obj in config:
        leaked = SECRET_SETTINGS & set(obj["data"])
        assert not leaked, f"ConfigMap {obj['metadata']['name']} holds {leaked}"
    for container in containers(rendered):
        for item in container.spec.get("env", []):
            if item["name"] in SECRET_SETTINGS:
                assert "value" not in item, f"{container}: {item['name']} written inline"
                assert set(item["valueFrom"]) == {"secretKeyRef"}, f"{container}: {item['name']}"


def test_each_process_gets_the_secrets_it_needs_and_workers_no_database(rendered):
    for container in containers(rendered):
        names = container.env_names()
        assert "ORCH_REDIS_URL" in names, f"{container}: no broker"
        if container.spec["name"] == "celery-worker":
            # README: a worker host gets no database and no secret key.
            assert not names & {"ORCH_DATABASE_URL", "ORCH_SECRET_KEY", "ORCH_FERNET_KEY"}
        else:
            assert names >= SECRET_SETTINGS, f"{container}: misses {SECRET_SETTINGS - names}"


def test_the_config_map_sets_only_real_orch_settings(rendered):
    known = {env_name(field) for field in OrchSettings.model_fields}
    for obj in rendered:
        if obj["kind"] != "ConfigMap":
            continue
        unknown = set(obj["data"]) - known
        assert not unknown, f"ConfigMap sets settings that do not exist: {sorted(unknown)}"
        assert obj["data"]["ORCH_EXECUTOR"]
        # The config is valid as a whole (the same checks a process makes at start).
        from orchestrator_site.config import load_settings

        load_settings(obj["data"])
    every_container_reads_it = all(
        any("configMapRef" in source for source in c.spec.get("envFrom", []))
        for c in containers(rendered)
    )
    assert every_container_reads_it
