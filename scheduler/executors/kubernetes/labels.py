"""Names, labels and annotations of task pods (Airflow's pod_generator helpers).

Label values must be at most 63 characters of `[A-Za-z0-9_.-]`, starting and ending with an
alphanumeric; dag, task and run ids often are not (a run id has `:` and `+`). As Airflow's
`make_safe_label_value`, a value that had to change is cut and suffixed with a hash of the
original, so two ids never share a label; the full values travel in annotations.
"""

from __future__ import annotations

import hashlib
import re
import uuid

MAX_LABEL_LEN = 63
# Airflow's label keys, so tools that select Airflow's pods select ours.
EXECUTOR_LABEL = "kubernetes_executor"
WORKER_LABEL = "airflow-worker"  # the id of the scheduler job that launched (or adopted) it
TI_ID_ANNOTATION = "ti_id"
# On the pods a Celery worker launched (scheduler/worker/pods.py): the worker's name. No
# scheduler adopts them (their runner reports on its own; beat's pod GC deletes them).
CELERY_WORKER_LABEL = "celery-worker"
ID_KEYS = ("dag_id", "task_id", "run_id")
# Selects every task pod of this executor, whoever launched it.
OUR_PODS = f"{EXECUTOR_LABEL}=True"

_UNSAFE = re.compile(r"^[^a-z0-9A-Z]*|[^a-zA-Z0-9_\-\.]|[^a-z0-9A-Z]*$")
_DNS_UNSAFE = re.compile(r"[^a-z0-9-]+")


def safe_label_value(value: str) -> str:
    safe = _UNSAFE.sub("", value)
    if len(safe) > MAX_LABEL_LEN or safe != value:
        digest = hashlib.md5(value.encode("utf-8"), usedforsecurity=False).hexdigest()[:9]
        safe = safe[: MAX_LABEL_LEN - len(digest) - 1] + "-" + digest
    return safe


def pod_name(dag_id: str, task_id: str) -> str:
    """A unique DNS-1123 name: `<dag>-<task>-<8 hex>` lowercased and cut to fit 63."""
    stem = _DNS_UNSAFE.sub("-", f"{dag_id}-{task_id}".lower()).strip("-")[:50].strip("-")
    return f"{stem or 'task'}-{uuid.uuid4().hex[:8]}"


def try_labels(
    dag_id: str, task_id: str, run_id: str, try_number: int, map_index: int, job_id: int | None
) -> dict[str, str]:
    labels = {
        "dag_id": safe_label_value(dag_id),
        "task_id": safe_label_value(task_id),
        "run_id": safe_label_value(run_id),
        "try_number": str(try_number),
        EXECUTOR_LABEL: "True",
    }
    if map_index >= 0:  # as Airflow: "-1" is no label value (it must start alphanumeric)
        labels["map_index"] = str(map_index)
    if job_id is not None:
        labels[WORKER_LABEL] = str(job_id)
    return labels


def try_annotations(
    ti_id: str, dag_id: str, task_id: str, run_id: str, try_number: int, map_index: int
) -> dict[str, str]:
    return {
        TI_ID_ANNOTATION: ti_id,
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "try_number": str(try_number),
        "map_index": str(map_index),
    }


def try_selector(dag_id: str, task_id: str, run_id: str, try_number: int, map_index: int) -> str:
    """A label selector for the pods of one try (with the ti_id annotation, which a selector
    cannot match, it finds the try's pod whatever its generated name)."""
    labels = try_labels(dag_id, task_id, run_id, try_number, map_index, None)
    if map_index < 0:
        labels.pop("map_index", None)
    selector = ",".join(f"{key}={value}" for key, value in labels.items())
    return selector if map_index >= 0 else selector + ",!map_index"
