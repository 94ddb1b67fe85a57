"""Reading and writing XComs: small JSON values tasks pass to each other."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import transaction

from dagruns.models import DagRun, XCom
from dagruns.models.xcom import encrypt_value


class XComNotFound(LookupError):
    pass


class XComTooLarge(ValueError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"XCom value is {size} bytes of JSON, over the limit of {limit} bytes "
            "(ORCH_XCOM_MAX_SIZE)"
        )
        self.size = size
        self.limit = limit


class XComNotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes | str) -> Any:
    """Strict JSON: NaN and Infinity (which Python's json accepts) are refused, because no
    other JSON reader, PostgreSQL's jsonb included, would take them back."""
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise XComNotJson(f"the value is not JSON: {exc}") from None


def encoded_size(value: Any) -> int:
    """Bytes of the value's compact UTF-8 JSON encoding (what ORCH_XCOM_MAX_SIZE limits)."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise XComNotJson(f"the value is not JSON: {exc}") from None
    return len(text.encode("utf-8"))


def check_value(value: Any) -> None:
    """Raise XComNotJson / XComTooLarge for a value that may not be stored."""
    size = encoded_size(value)
    limit = settings.ORCH.xcom_max_size
    if size > limit:
        raise XComTooLarge(size, limit)


def get_xcom(dag_run: DagRun, task_id: str, key: str, map_index: int = -1) -> XCom:
    try:
        return XCom.objects.get(dag_run=dag_run, task_id=task_id, map_index=map_index, key=key)
    except XCom.DoesNotExist:
        raise XComNotFound(
            f"XCom with key {key!r} not found for task {task_id!r}"
            + (f" (map_index {map_index})" if map_index >= 0 else "")
            + f" in run {dag_run.run_id!r} of DAG {dag_run.dag_id!r}"
        ) from None


def do_set_xcom(dag_run: DagRun, task_id: str, key: str, value: Any, map_index: int = -1) -> XCom:
    """Store (or replace) one XCom after checking it is JSON and within the size limit."""
    check_value(value)
    with transaction.atomic():
        xcom, _ = XCom.objects.update_or_create(
            dag_run=dag_run,
            task_id=task_id,
            map_index=map_index,
            key=key,
            defaults={
                "encrypted_value": encrypt_value(value),
                "dag_id": dag_run.dag_id,
                "run_id": dag_run.run_id,
            },
        )
    return xcom


class UnmappableLength(ValueError):
    """A value a mapped task expands over has more items than ORCH_MAX_MAP_LENGTH."""


def check_mapped_length(length: int) -> None:
    """Refuse a value to map over that is longer than the maximum map length (Airflow's
    UnmappableXComLengthPushed, raised when the upstream pushes it)."""
    limit = settings.ORCH.max_map_length
    if length > limit:
        raise UnmappableLength(
            f"UnmappableXComLengthPushed: unmappable return value length: {length} > {limit} "
            "(the maximum map length, ORCH_MAX_MAP_LENGTH)"
        )


# A page of a mapped task's values at most (the runner's LazyXComSequence asks for less).
MAX_SEQUENCE_PAGE = 1000


def mapped_xcoms(
    dag_run: DagRun, task_id: str, key: str, start: int, stop: int | None
) -> tuple[int, list[Any]]:
    """How many instances of the mapped task pushed `key`, and the values of positions
    start..stop in map-index order."""
    pushed = XCom.objects.filter(dag_run=dag_run, task_id=task_id, key=key, map_index__gte=0)
    length = pushed.count()
    stop = length if stop is None else min(stop, length)
    stop = min(stop, start + MAX_SEQUENCE_PAGE)
    if stop <= start:
        return length, []
    rows = pushed.order_by("map_index")[start:stop]
    return length, [row.value for row in rows]
