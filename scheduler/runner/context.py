"""The Airflow context a task receives (`execute(context)`, templates, TaskFlow arguments,
`get_current_context()`).

Built in the task process from the claim answer of the Execution API (the DAG run, the task
instance, the previous successful run) and the task itself. Everything that needs the database
(XComs, variables, connections) goes through the supervisor (`comms.SupervisorComms`), which
calls the Execution API: task code never touches the database.

Keys (Airflow 3's templates reference): conn, dag, dag_run, data_interval_end,
data_interval_start, expanded_ti_count, inlet_events, inlets, macros, map_index,
map_index_template, outlet_events, outlets, params, prev_end_date_success,
prev_start_date_success, run_id, start_date, task, task_instance, task_instance_key_str
(dag__task__run_id without a logical date), task_reschedule_count, test_mode, ti,
triggering_asset_events, try_number, var; and, only for a run with a logical date (as in
Airflow 3): ds, ds_nodash, logical_date, prev_data_interval_end_success,
prev_data_interval_start_success, ts, ts_nodash, ts_nodash_with_tz. Callbacks also get
`exception` (failure and retry callbacks).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import pendulum

from dagruns.sdk import macros, xcom_values
from dagruns.sdk.assets.accessors import (
    AssetEventResult,
    EventQuery,
    Fetch,
    InletEventsAccessors,
    OutletEventAccessors,
    TriggeringAssetEvents,
)
from dagruns.sdk.connection import Connection, ConnectionAccessor
from dagruns.sdk.exceptions import AirflowException
from dagruns.sdk.lazy_sequence import materialize
from dagruns.sdk.params import validate_params
from dagruns.sdk.templating import ds, ds_nodash, ts, ts_nodash, ts_nodash_with_tz
from dagruns.sdk.unsupported import UNSUPPORTED_CONTEXT_KEYS, UnsupportedInContext
from dagruns.sdk.variable import VariableAccessor
from dagruns.sdk.xcom_arg import XCOM_RETURN_KEY
from scheduler.runner.comms import RequestFailed
from scheduler.runner.task_runtime import CommsRuntime

__all__ = [
    "Connection",
    "DagRunInfo",
    "PreviousDagRun",
    "RuntimeTaskInstance",
    "XComPullError",
    "XComPushError",
    "build_context",
]


class Comms(Protocol):
    def request(self, op: str, **arguments: Any) -> Any: ...


class XComPushError(AirflowException):
    """An XCom could not be stored: not JSON, too large (413), or refused by the server."""


class UnmappableXComLengthPushed(XComPushError):
    """The result a mapped task expands over has more items than ORCH_MAX_MAP_LENGTH."""


class XComPullError(AirflowException):
    """An XCom could not be read (other than "not found", which gives the default)."""


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from the API's ISO-8601 text (None stays None).

    A pendulum DateTime, as Airflow gives tasks: DAG code calls ``logical_date.add(days=1)``,
    ``.format(...)``, ``.in_timezone(...)`` on the context's dates."""
    if value is None or value == "":
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return pendulum.instance(parsed.astimezone(UTC))


@dataclass
class DagRunInfo:
    """`context["dag_run"]`: the run as the Execution API describes it."""

    dag_id: str
    run_id: str
    run_type: str = "manual"
    conf: dict[str, Any] = field(default_factory=dict)
    logical_date: datetime | None = None
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    run_after: datetime | None = None
    start_date: datetime | None = None
    # The events an asset-triggered run consumed, as the Execution API gives them.
    consumed_asset_events: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> DagRunInfo:
        return cls(
            dag_id=data["dag_id"],
            run_id=data["run_id"],
            run_type=data.get("run_type") or "manual",
            conf=dict(data.get("conf") or {}),
            logical_date=parse_datetime(data.get("logical_date")),
            data_interval_start=parse_datetime(data.get("data_interval_start")),
            data_interval_end=parse_datetime(data.get("data_interval_end")),
            run_after=parse_datetime(data.get("run_after")),
            start_date=parse_datetime(data.get("start_date")),
            consumed_asset_events=list(data.get("consumed_asset_events") or []),
        )


@dataclass(frozen=True)
class PreviousDagRun:
    """The DAG's latest successful run before this one (all None when there is none)."""

    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any] | None) -> PreviousDagRun:
        data = data or {}
        return cls(
            data_interval_start=parse_datetime(data.get("data_interval_start")),
            data_interval_end=parse_datetime(data.get("data_interval_end")),
            start_date=parse_datetime(data.get("start_date")),
            end_date=parse_datetime(data.get("end_date")),
        )


def asset_event_fetcher(comms: Comms) -> Fetch:
    """How `inlet_events` reads an asset's or alias's events: through the supervisor."""

    def fetch(query: EventQuery) -> list[AssetEventResult]:
        # Only what narrows the query (oldest first is the route's default).
        arguments = {k: v for k, v in asdict(query).items() if v is not None}
        if arguments.get("ascending") is True:
            del arguments["ascending"]
        try:
            answer = comms.request("get_asset_events", **arguments)
        except RequestFailed as exc:
            which = query.alias_name or query.name or query.uri
            raise AirflowException(
                f"Could not read the events of {which!r}: {exc.message}"
            ) from None
        return [AssetEventResult.from_api(item) for item in answer]

    return fetch


class RuntimeTaskInstance:
    """`context["ti"]`: the running try, with XCom access through the Execution API."""

    def __init__(
        self,
        comms: Comms,
        *,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int = -1,
        try_number: int = 1,
        max_tries: int = 0,
        task: Any = None,
        hostname: str = "",
        id: str | None = None,
    ) -> None:
        self._comms = comms
        self.id = id
        self.dag_id = dag_id
        self.run_id = run_id
        self.task_id = task_id
        self.map_index = map_index
        self.try_number = try_number
        self.max_tries = max_tries
        self.task = task
        self.hostname = hostname

    def __repr__(self) -> str:
        return (
            f"<RuntimeTaskInstance: {self.dag_id}.{self.task_id} {self.run_id} "
            f"try {self.try_number}>"
        )

    # -- other DAGs' states (ExternalTaskSensor), Airflow 3's runtime methods ---------------

    def get_ti_count(
        self,
        dag_id: str,
        map_index: int | None = None,
        task_ids: list[str] | None = None,
        task_group_id: str | None = None,
        logical_dates: list[datetime] | None = None,
        run_ids: list[str] | None = None,
        states: list[str] | None = None,
    ) -> int:
        """How many task instances of DAG `dag_id` match."""
        return int(
            self._ask(
                "get_ti_count",
                dag_id=dag_id,
                map_index=map_index,
                task_ids=task_ids,
                task_group_id=task_group_id,
                logical_dates=_iso_dates(logical_dates),
                run_ids=run_ids,
                states=states,
            )
        )

    def get_task_states(
        self,
        dag_id: str,
        map_index: int | None = None,
        task_ids: list[str] | None = None,
        task_group_id: str | None = None,
        logical_dates: list[datetime] | None = None,
        run_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """{run_id: {task_id: state}} of DAG `dag_id`'s matching task instances."""
        answer = self._ask(
            "get_task_states",
            dag_id=dag_id,
            map_index=map_index,
            task_ids=task_ids,
            task_group_id=task_group_id,
            logical_dates=_iso_dates(logical_dates),
            run_ids=run_ids,
        )
        return dict(answer["task_states"])

    def get_dr_count(
        self,
        dag_id: str,
        logical_dates: list[datetime] | None = None,
        run_ids: list[str] | None = None,
        states: list[str] | None = None,
    ) -> int:
        """How many runs of DAG `dag_id` match."""
        return int(
            self._ask(
                "get_dr_count",
                dag_id=dag_id,
                logical_dates=_iso_dates(logical_dates),
                run_ids=run_ids,
                states=states,
            )
        )

    def get_dag(self, dag_id: str) -> dict[str, Any] | None:
        """`{"dag_id", "is_paused", "is_active"}` of DAG `dag_id`, None when it does not exist
        (ExternalTaskSensor's check_existence)."""
        return self._ask("get_dag", dag_id=dag_id)

    def _ask(self, op: str, **arguments: Any) -> Any:
        try:
            return self._comms.request(op, **arguments)
        except RequestFailed as exc:
            raise AirflowException(
                f"Could not read other DAGs' states ({op}): {exc.message}"
            ) from None

    def get_first_reschedule_date(self, context: Mapping[str, Any]) -> datetime | None:
        """When the first reschedule of this task since its last clear started (Airflow 3's
        method): a reschedule-mode sensor's timeout counts from there. None when it was
        never rescheduled."""
        retries = int(getattr(self.task, "retries", 0) or 0)
        first_try_number = max(self.max_tries - retries + 1, 1)
        if context.get("task_reschedule_count", 0) == 0 and self.try_number == first_try_number:
            return None  # the first run of the first try since the clear: nothing to ask
        try:
            value = self._comms.request(
                "get_task_reschedule_start_date", try_number=first_try_number
            )
        except RequestFailed as exc:
            raise AirflowException(
                f"Could not read the first reschedule date: {exc.message}"
            ) from None
        return parse_datetime(value)

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        dag_id: str | None = None,
        key: str = XCOM_RETURN_KEY,
        include_prior_dates: bool = False,
        *,
        map_indexes: int | list[int] | tuple[int, ...] | range | None = None,
        default: Any = None,
        run_id: str | None = None,
    ) -> Any:
        """The XCom `key` of one task (a string id: the value) or several (a list of ids: a
        list of values); `default` where there is none. Without task_ids: this task's own,
        as in Airflow 3."""
        if task_ids is None:
            task_ids = self.task_id
        single = isinstance(task_ids, str)
        ids = [task_ids] if isinstance(task_ids, str) else list(task_ids)
        values = []
        for task_id in ids:
            if map_indexes is None and self._is_mapped(task_id, dag_id, run_id):
                values.append(self._pull_mapped(task_id, key, default))
                continue
            if isinstance(map_indexes, list | tuple | range):
                # Airflow: several map indexes give a list of their values.
                values.append(
                    [
                        self._pull_one(
                            dag_id or self.dag_id,
                            run_id or self.run_id,
                            task_id,
                            key,
                            int(i),
                            default,
                        )
                        for i in map_indexes
                    ]
                )
                continue
            map_index = -1 if map_indexes is None else int(map_indexes)
            values.append(
                self._pull_one(
                    dag_id or self.dag_id, run_id or self.run_id, task_id, key, map_index, default
                )
            )
        return values[0] if single else values

    def _is_mapped(self, task_id: str, dag_id: str | None, run_id: str | None) -> bool:
        if (dag_id or self.dag_id) != self.dag_id or (run_id or self.run_id) != self.run_id:
            return False
        dag = getattr(self.task, "dag", None) if self.task is not None else None
        if dag is None or not dag.has_task(task_id):
            return False
        return bool(dag.get_task(task_id).is_mapped)

    def _pull_mapped(self, task_id: str, key: str, default: Any) -> Any:
        """Airflow 3: without map_indexes, a mapped task's XCom is the instance of the same
        index in the same mapped group, else the list of all its instances' values."""
        from dagruns.sdk.lazy_sequence import LazyXComSequence, same_mapped_group

        upstream = self.task.dag.get_task(task_id)
        if self.map_index >= 0 and same_mapped_group(upstream, self.task):
            return self._pull_one(self.dag_id, self.run_id, task_id, key, self.map_index, default)
        values = list(LazyXComSequence(self, task_id, key))
        return values if values else default

    def xcom_sequence(
        self, task_id: str, key: str, start: int, stop: int | None
    ) -> tuple[int, list[Any]]:
        """(how many, values start..stop) of a mapped task's XComs in this run, in map-index
        order: what LazyXComSequence reads."""
        try:
            answer = self._comms.request(
                "get_xcom_sequence",
                dag_id=self.dag_id,
                run_id=self.run_id,
                task_id=task_id,
                key=key,
                start=start,
                stop=stop,
            )
        except RequestFailed as exc:
            raise XComPullError(
                f"Could not pull the XComs {key!r} of mapped task {task_id!r}: {exc.message}"
            ) from None
        return int(answer["length"]), [xcom_values.decode(v) for v in answer["values"]]

    def _pull_one(
        self, dag_id: str, run_id: str, task_id: str, key: str, map_index: int, default: Any
    ) -> Any:
        try:
            value = self._comms.request(
                "get_xcom",
                dag_id=dag_id,
                run_id=run_id,
                task_id=task_id,
                key=key,
                map_index=map_index,
            )
        except RequestFailed as exc:
            if exc.status == 404:
                return default
            raise XComPullError(
                f"Could not pull XCom {key!r} of task {task_id!r} (run {run_id!r}): {exc.message}"
            ) from None
        return xcom_values.decode(value)

    def xcom_push(self, key: str, value: Any, *, mapped_length: int | None = None) -> None:
        """Store `value` (strict JSON) as XCom `key` of this task. `mapped_length`: a mapped
        task expands over it (the server refuses more items than the maximum)."""
        if not isinstance(key, str) or not key:
            raise XComPushError(f"XCom key must be a non-empty string, got {key!r}")
        value = xcom_values.encode(materialize(value))
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise XComPushError(
                f"XCom value for key {key!r} of task {self.task_id!r} is not JSON-serializable: "
                f"{exc} (value of type {type(value).__name__})"
            ) from None
        try:
            self._comms.request(
                "set_xcom",
                dag_id=self.dag_id,
                run_id=self.run_id,
                task_id=self.task_id,
                key=key,
                map_index=self.map_index,
                value=value,
                mapped_length=mapped_length,
            )
        except RequestFailed as exc:
            if exc.status == 422 and "UnmappableXComLengthPushed" in exc.message:
                raise UnmappableXComLengthPushed(exc.message) from None
            if exc.status == 413:
                raise XComPushError(
                    f"XCom {key!r} of task {self.task_id!r} is too large: {exc.message}"
                ) from None
            raise XComPushError(
                f"Could not push XCom {key!r} of task {self.task_id!r}: {exc.message}"
            ) from None


# -- the context -----------------------------------------------------------------------


def _iso_dates(dates: list[datetime] | None) -> list[str] | None:
    return [d.isoformat() for d in dates] if dates is not None else None


def resolve_params(task: Any, conf: dict[str, Any] | None) -> dict[str, Any]:
    """The task's params (the DAG's, default_args', the task's own) with the run's conf
    over them, validated against their schemas; raises ParamValidationError."""
    return validate_params(task.params.serialize(), conf or {})


def build_context(
    *,
    task: Any,
    dag: Any,
    dag_run: DagRunInfo,
    ti: RuntimeTaskInstance,
    comms: Comms,
    previous: PreviousDagRun | None = None,
    expanded_ti_count: int | None = None,
    task_reschedule_count: int = 0,
    test_mode: bool = False,
) -> dict[str, Any]:
    """The context dict for one try; raises ParamValidationError for bad params. `previous`:
    the previous successful run (from the claim answer). `test_mode`: True only for `manage.py
    tasks test` (Airflow 2's meaning; Airflow 3.3's runner leaves the key out, a TODO there)."""
    source = CommsRuntime(comms)
    previous = previous or PreviousDagRun()
    context: dict[str, Any] = {
        "dag": dag,
        "task": task,
        "ti": ti,
        "task_instance": ti,
        "dag_run": dag_run,
        "run_id": dag_run.run_id,
        "data_interval_start": dag_run.data_interval_start,
        "data_interval_end": dag_run.data_interval_end,
        "start_date": dag_run.start_date,
        "params": resolve_params(task, dag_run.conf),
        "macros": macros,
        "var": VariableAccessor(source),
        "conn": ConnectionAccessor(source),
        "try_number": ti.try_number,
        "test_mode": test_mode,
        "expanded_ti_count": expanded_ti_count,
        "map_index": ti.map_index,
        "map_index_template": getattr(task, "map_index_template", None),
        "inlets": list(getattr(task, "inlets", None) or []),
        "outlets": list(getattr(task, "outlets", None) or []),
        "inlet_events": InletEventsAccessors(
            list(getattr(task, "inlets", None) or []), asset_event_fetcher(comms)
        ),
        "outlet_events": OutletEventAccessors(),
        "triggering_asset_events": TriggeringAssetEvents(
            [AssetEventResult.from_api(item) for item in dag_run.consumed_asset_events]
        ),
        "task_reschedule_count": task_reschedule_count,
        "task_instance_key_str": f"{dag_run.dag_id}__{ti.task_id}__{dag_run.run_id}",
        "prev_start_date_success": previous.start_date,
        "prev_end_date_success": previous.end_date,
    }
    for key, what in UNSUPPORTED_CONTEXT_KEYS.items():
        context[key] = UnsupportedInContext(key, what)
    logical_date = dag_run.logical_date
    if logical_date is not None:
        context.update(
            logical_date=logical_date,
            ds=ds(logical_date),
            ds_nodash=ds_nodash(logical_date),
            ts=ts(logical_date),
            ts_nodash=ts_nodash(logical_date),
            ts_nodash_with_tz=ts_nodash_with_tz(logical_date),
            task_instance_key_str=f"{dag_run.dag_id}__{ti.task_id}__{ds_nodash(logical_date)}",
            prev_data_interval_start_success=previous.data_interval_start,
            prev_data_interval_end_success=previous.data_interval_end,
        )
    return context
