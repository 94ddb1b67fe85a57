"""The seam between a trigger and the process that runs it, for other DAGs' states.

WorkflowTrigger and DagStateTrigger poll other DAGs' run and task states, as Airflow 3's do
through `RuntimeTaskInstance.get_dr_count` / `get_ti_count` / `get_task_states` /
`get_dagrun_state`. Trigger code never touches the database and the SDK does no HTTP: the
trigger runner (scheduler/triggerer/child.py) installs a `StatesReader` here that asks the
Execution API with the read-only token the triggerer issued for the trigger's deferred try.
Where nobody installed one, every call raises NoStatesReader naming what was asked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from ..exceptions import AirflowException


class StatesReader(Protocol):
    """Answers one Execution API question (`path`, with `query`) for the running trigger."""

    async def read(self, path: str, query: dict[str, Any]) -> Any: ...


class NoStatesReader(AirflowException, RuntimeError):
    """A trigger asked for other DAGs' states outside the triggerer."""


_reader: StatesReader | None = None


def install(reader: StatesReader | None) -> None:
    global _reader
    _reader = reader


async def _read(path: str, **query: Any) -> Any:
    if _reader is None:
        raise NoStatesReader(
            f"reading other DAGs' states ({path}) needs the triggerer: nothing in this process "
            "answers it"
        )
    return await _reader.read(path, {k: v for k, v in query.items() if v is not None})


def _dates(dates: Iterable[datetime] | None) -> list[str] | None:
    return [d.isoformat() for d in dates] if dates else None


def _list(values: Iterable[str] | None) -> list[str] | None:
    return [str(v) for v in values] if values else None


async def get_dr_count(
    dag_id: str,
    logical_dates: Iterable[datetime] | None = None,
    run_ids: Iterable[str] | None = None,
    states: Iterable[str] | None = None,
) -> int:
    """How many runs of `dag_id` match."""
    answer = await _read(
        "dag-runs/count",
        dag_id=dag_id,
        logical_dates=_dates(logical_dates),
        run_ids=_list(run_ids),
        states=_list(states),
    )
    return int(answer)


async def get_ti_count(
    dag_id: str,
    task_ids: Collection[str] | None = None,
    task_group_id: str | None = None,
    logical_dates: Iterable[datetime] | None = None,
    run_ids: Iterable[str] | None = None,
    states: Iterable[str] | None = None,
) -> int:
    """How many task instances of `dag_id` match."""
    answer = await _read(
        "task-instances/count",
        dag_id=dag_id,
        task_ids=_list(task_ids),
        task_group_id=task_group_id,
        logical_dates=_dates(logical_dates),
        run_ids=_list(run_ids),
        states=_list(states),
    )
    return int(answer)


async def get_task_states(
    dag_id: str,
    task_group_id: str | None = None,
    logical_dates: Iterable[datetime] | None = None,
    run_ids: Iterable[str] | None = None,
) -> dict[str, dict[str, str | None]]:
    """{run_id: {task_id: state}} of `dag_id`'s matching task instances."""
    answer = await _read(
        "task-instances/states",
        dag_id=dag_id,
        task_group_id=task_group_id,
        logical_dates=_dates(logical_dates),
        run_ids=_list(run_ids),
    )
    return dict(answer["task_states"])


async def get_dagrun_state(dag_id: str, run_id: str) -> str:
    """The state of run `run_id` of `dag_id`."""
    path = f"dag-runs/{quote(dag_id, safe='')}/{quote(run_id, safe='')}/state"
    answer = await _read(path)
    return str(answer["state"])
