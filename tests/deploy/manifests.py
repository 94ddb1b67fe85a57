"""Reading deploy/: the rendered objects of a kustomize overlay, and the containers in them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
EXAMPLE_OVERLAY = DEPLOY / "overlays" / "example"
# The kinds whose pod template runs our processes.
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"})


def render(overlay: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize overlay` (offline: it reads files only), parsed."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is not on PATH (Debian's `kubectl` package provides it)"
    done = subprocess.run(
        [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"kubectl kustomize {overlay} failed:\n{done.stderr}"
    return [obj for obj in yaml.safe_load_all(done.stdout) if obj]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


@dataclass(frozen=True)
class Container:
    workload: str  # "Deployment/orchestrator-scheduler"
    spec: dict[str, Any]
    pod: dict[str, Any]

    @property
    def argv(self) -> list[str]:
        return [*self.spec.get("command", []), *self.spec.get("args", [])]

    def env_names(self) -> set[str]:
        return {item["name"] for item in self.spec.get("env", [])}

    def __str__(self) -> str:
        return f"{self.workload} container {self.spec['name']}"


def containers(objects: list[dict[str, Any]]) -> Iterator[Container]:
    for obj in objects:
        if obj["kind"] not in WORKLOAD_KINDS:
            continue
        spec = pod_spec(obj)
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        for item in [*spec.get("initContainers", []), *spec["containers"]]:
            yield Container(where, item, spec)


def by_kind_and_name(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in objects}


def local_argv(argv: list[str]) -> list[str]:
    """A container's command line with this checkout's interpreter and manage.py."""
    swap = {"python": sys.executable, "/app/manage.py": str(REPO / "manage.py")}
    return [swap.get(word, word) for word in argv]
