"""The pod template that runs our task runner on the stand-in.

The stand-in's kubelet pulls no image: it runs the container's `command` + `args` as a local
process. The executor sets `args` to `python -m scheduler.runner --from-env` (what a real
image's Python runs); this template's `command` puts this interpreter's directory first on
PATH, so that `python` is the one of this installation, as the image's entrypoint would be.
Used by the tests and by the benchmark (never by a real cluster: its pods run the image)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

IMAGE = "orchestrator:standin"


def runner_pod_template(labels: dict[str, str] | None = None) -> str:
    """The template's YAML; `labels` go on every pod made from it."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    template = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": dict(labels or {})},
        "spec": {
            "containers": [{"name": "base", "image": IMAGE, "command": ["env", f"PATH={path}"]}]
        },
    }
    return yaml.safe_dump(template, sort_keys=False)


def write_runner_pod_template(path: Path, labels: dict[str, str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(runner_pod_template(labels))
    return path
