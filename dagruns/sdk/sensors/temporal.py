"""The standard provider's time sensors: TimeSensor, TimeDeltaSensor, WaitSensor,
DateTimeSensor and DayOfWeekSensor (``sensors.time``, ``time_delta``, ``date_time``,
``weekday``). With ``deferrable=True`` (and in the ``*Async`` classes) the time sensors wait in
the triggerer on a DateTimeTrigger / TimeDeltaTrigger instead of a worker slot; with
``end_from_trigger=True`` as well, the triggerer marks the task successful when the time comes,
without resuming it in a worker (Airflow's argument; it has no effect unless deferrable, as
there). A deferrable WaitSensor always ends in the triggerer, as Airflow's does. As in Airflow's
standard provider, only TimeDeltaSensor passes its ``timeout`` to ``defer()``; TimeSensor and
DateTimeSensor wait for their time however far it is.

TimeSensor and DateTimeSensorAsync take Airflow's ``start_from_trigger=True``: the scheduler
defers the task straight to a DateTimeTrigger of the target moment (dagruns/sdk/start_trigger.py),
no worker ever running ``execute``. As in Airflow, the moment is the one computed when the task
is created (for a TimeSensor, the target time of the day the DAG file was parsed)."""

from __future__ import annotations

import time as time_module
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pendulum

from ..exceptions import AirflowException, DagDefinitionError
from ..triggers.base import StartTriggerArgs
from ..triggers.temporal import DateTimeTrigger, TimeDeltaTrigger
from ..weekday import WeekDay
from .base import BaseSensorOperator


def _utcnow() -> datetime:
    return datetime.now(UTC)


# Airflow's start_trigger_args of its time sensors; each task that starts from the trigger gets
# its own copy with its moment (Airflow assigns the kwargs on this class-level object, so the
# last task created would set every task's moment: see docs/authoring.md).
_START_AT_MOMENT = StartTriggerArgs(
    trigger_cls="airflow.providers.standard.triggers.temporal.DateTimeTrigger",
    trigger_kwargs={"moment": "", "end_from_trigger": False},
    next_method="execute_complete",
    next_kwargs=None,
    timeout=None,
)


def _start_at(
    task: BaseSensorOperator,
    start_from_trigger: bool,
    moment: Any,
    end_from_trigger: bool,
    trigger_kwargs: dict[str, Any] | None,
) -> None:
    """Set `task` to start from a DateTimeTrigger of `moment` (a callable, called only when
    it does) when `start_from_trigger`, as Airflow's TimeSensor/DateTimeSensorAsync do."""
    if trigger_kwargs is not None:
        raise DagDefinitionError(
            f"Task {task.task_id!r}: argument 'trigger_kwargs' is not supported: Airflow uses it "
            "only for mapped tasks starting from the trigger, which are not supported"
        )
    task.start_from_trigger = start_from_trigger
    if start_from_trigger:
        task.start_trigger_args = StartTriggerArgs(
            trigger_cls=_START_AT_MOMENT.trigger_cls,
            trigger_kwargs={"moment": moment(), "end_from_trigger": end_from_trigger},
            next_method=_START_AT_MOMENT.next_method,
        )


def _check_duration(value: Any, field: str, task_id: str) -> None:
    """A duration argument as Airflow types it: a timedelta, an int of minutes, or a string
    (a template, rendered before the task runs, whose result is cast to int minutes)."""
    if isinstance(value, bool) or not isinstance(value, timedelta | int | str):
        raise DagDefinitionError(
            f"Task {task_id!r}: {field} must be a timedelta, an int of minutes or a template "
            f"string, got {type(value).__name__}: {value!r}"
        )


def _as_duration(value: Any, field: str, task_id: str) -> timedelta:
    """The rendered duration: a timedelta as it is, anything else ``int(value)`` minutes, as
    Airflow's ``_resolve_delta``; a value that is not a whole number is an error naming it."""
    if isinstance(value, timedelta):
        return value
    try:
        return timedelta(minutes=int(value))
    except (TypeError, ValueError):
        raise AirflowException(
            f"Task {task_id!r}: {field} is {value!r}, which is neither a timedelta nor a whole "
            "number of minutes"
        ) from None


class TimeSensor(BaseSensorOperator):
    """Waits until ``target_time`` (a time of day in the DAG's timezone) of the day the task
    is run, as Airflow computes it when the task is created (each try re-creates it)."""

    start_trigger_args = _START_AT_MOMENT

    def __init__(
        self,
        *,
        target_time: time,
        deferrable: bool = False,
        start_from_trigger: bool = False,
        end_from_trigger: bool = False,
        trigger_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(target_time, time):
            raise DagDefinitionError(
                f"Task {self.task_id!r}: target_time must be a datetime.time, got "
                f"{type(target_time).__name__}: {target_time!r}"
            )
        tz = self.dag.timezone if self.has_dag() else UTC
        aware = datetime.combine(datetime.now(tz), target_time, tz)
        self.target_datetime = aware.astimezone(UTC)
        self.deferrable = deferrable
        self.end_from_trigger = end_from_trigger
        _start_at(
            self, start_from_trigger, lambda: self.target_datetime, end_from_trigger, trigger_kwargs
        )

    def execute(self, context: Mapping[str, Any]) -> Any:
        if not self.deferrable:
            return super().execute(context)
        self.defer(
            trigger=DateTimeTrigger(self.target_datetime, end_from_trigger=self.end_from_trigger),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Mapping[str, Any], event: Any = None) -> None:
        """The trigger fired: the time has come."""
        return None

    def poke(self, context: Mapping[str, Any]) -> bool:
        self.log.info("Checking if the time (%s) has come", self.target_datetime)
        return _utcnow() > self.target_datetime


class TimeDeltaSensor(BaseSensorOperator):
    """Waits until ``delta`` after the run's data_interval_end (its run_after when it has no
    data interval, as Airflow 3). ``delta`` is templated: a timedelta, or an int (or what a
    template renders) of minutes, as Airflow's."""

    template_fields: Sequence[str] = ("delta",)

    def __init__(
        self,
        *,
        delta: timedelta | int | str,
        deferrable: bool = False,
        end_from_trigger: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_duration(delta, "delta", self.task_id)
        self.delta = delta
        self.deferrable = deferrable
        self.end_from_trigger = end_from_trigger

    def _resolve_delta(self) -> timedelta:
        return _as_duration(self.delta, "delta", self.task_id)

    def _derive_base_time(self, context: Mapping[str, Any]) -> datetime:
        data_interval_end = context.get("data_interval_end")
        if data_interval_end:
            if not isinstance(data_interval_end, datetime):
                raise ValueError("`data_interval_end` returned non-datetime object")
            return data_interval_end
        dag_run = context.get("dag_run")
        if not dag_run or getattr(dag_run, "run_after", None) is None:
            raise ValueError("`dag_run` not found in task context")
        return dag_run.run_after

    def execute(self, context: Mapping[str, Any]) -> Any:
        if not self.deferrable:
            return super().execute(context)
        target = self._derive_base_time(context) + self._resolve_delta()
        if _utcnow() > target:
            return True  # already past: nothing to wait for (Airflow returns at once too)
        # Airflow's TimeDeltaSensor (alone of the time sensors) bounds its deferral by the
        # sensor's timeout: a trigger still waiting then fails the task as a sensor timeout.
        self.defer(
            trigger=DateTimeTrigger(target, end_from_trigger=self.end_from_trigger),
            method_name="execute_complete",
            timeout=self.timeout,
        )

    def execute_complete(self, context: Mapping[str, Any], event: Any = None) -> None:
        """The trigger fired: the delta has elapsed."""
        return None

    def poke(self, context: Mapping[str, Any]) -> bool:
        base_time = self._derive_base_time(context)
        delta = self._resolve_delta()
        self.log.info("Checking if the delta has elapsed base_time=%s, delta=%s", base_time, delta)
        return _utcnow() > base_time + delta


class WaitSensor(BaseSensorOperator):
    """Waits ``time_to_wait`` (templated: a timedelta, or an int of minutes) from the start of
    the task, sleeping in one go as Airflow's non-deferrable WaitSensor does; deferrable, it
    ends in the triggerer (``end_from_trigger=True``), as Airflow's does."""

    template_fields: Sequence[str] = ("time_to_wait",)

    def __init__(
        self, time_to_wait: timedelta | int | str, deferrable: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        _check_duration(time_to_wait, "time_to_wait", self.task_id)
        self.time_to_wait = time_to_wait

    def execute(self, context: Mapping[str, Any]) -> None:
        time_to_wait = _as_duration(self.time_to_wait, "time_to_wait", self.task_id)
        if self.deferrable:
            self.defer(
                trigger=TimeDeltaTrigger(time_to_wait, end_from_trigger=True),
                method_name="execute_complete",
            )
        else:
            time_module.sleep(int(time_to_wait.total_seconds()))

    def execute_complete(self, context: Mapping[str, Any], event: Any = None) -> None:
        return None


class DateTimeSensor(BaseSensorOperator):
    """Waits until ``target_time`` (templated; a datetime or an ISO 8601 string, UTC when it
    names no timezone)."""

    template_fields: Sequence[str] = ("target_time",)

    def __init__(
        self,
        *,
        target_time: str | datetime,
        deferrable: bool = False,
        end_from_trigger: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(target_time, datetime):
            self.target_time = target_time.isoformat()
        elif isinstance(target_time, str):
            self.target_time = target_time
        else:
            raise DagDefinitionError(
                f"Task {self.task_id!r}: expected str or datetime.datetime type for target_time. "
                f"Got {type(target_time).__name__}"
            )
        self.deferrable = deferrable
        self.end_from_trigger = end_from_trigger

    def _target(self) -> datetime:
        # Not strict, as Airflow's timezone.parse: a rendered "Jan 5 2024 10:00" is a date too.
        try:
            target = pendulum.parse(self.target_time, tz="UTC", strict=False)
        except (ValueError, OverflowError) as exc:  # pendulum's ParserError is a ValueError
            raise ValueError(
                f"Task {self.task_id!r}: target_time {self.target_time!r} is not a date and "
                f"time ({exc})"
            ) from None
        if not isinstance(target, datetime):
            raise ValueError(
                f"Task {self.task_id!r}: target_time {self.target_time!r} is not a date and time"
            )
        return target

    def execute(self, context: Mapping[str, Any]) -> Any:
        if not self.deferrable:
            return super().execute(context)
        self.defer(
            trigger=DateTimeTrigger(self._target(), end_from_trigger=self.end_from_trigger),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Mapping[str, Any], event: Any = None) -> None:
        """The trigger fired: the time has come."""
        return None

    def poke(self, context: Mapping[str, Any]) -> bool:
        self.log.info("Checking if the time (%s) has come", self.target_time)
        return _utcnow() > self._target()


class DayOfWeekSensor(BaseSensorOperator):
    """Waits until today (UTC), or the run's logical date with ``use_task_logical_date``, is
    one of ``week_day`` (a day name, a WeekDay, or a set/list of them)."""

    def __init__(
        self,
        *,
        week_day: str | WeekDay | Iterable[str | WeekDay],
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        try:
            self._week_day_num = WeekDay.validate_week_day(week_day)
        except (AttributeError, TypeError, ValueError) as err:
            raise DagDefinitionError(f"Task {self.task_id!r}: week_day: {err}") from None
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date

    def poke(self, context: Mapping[str, Any]) -> bool:
        today = _utcnow()
        self.log.info(
            "Poking until weekday is in %s, Today is %s",
            self.week_day,
            WeekDay(today.isoweekday()).name,
        )
        if self.use_task_logical_date:
            logical_date = context.get("logical_date")
            if not logical_date:
                logical_date = context["dag_run"].run_after
            return logical_date.isoweekday() in self._week_day_num
        return today.isoweekday() in self._week_day_num


# Airflow's older deferrable classes (deprecated there, in favour of deferrable=True).
def _always_deferrable(cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The kwargs with deferrable=True. An explicit `deferrable` is refused by name rather than
    overridden (Airflow's TimeSensorAsync passes its own too: a TypeError there)."""
    if "deferrable" in kwargs:
        raise DagDefinitionError(
            f"Task {kwargs.get('task_id')!r}: {cls.__name__} always defers and takes no "
            f"'deferrable' argument (got deferrable={kwargs['deferrable']!r}); use "
            f"{cls.__name__.removesuffix('Async')}(deferrable=...) instead"
        )
    return {**kwargs, "deferrable": True}


class TimeSensorAsync(TimeSensor):
    """TimeSensor(deferrable=True)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_always_deferrable(TimeSensorAsync, kwargs))


class TimeDeltaSensorAsync(TimeDeltaSensor):
    """TimeDeltaSensor(deferrable=True)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_always_deferrable(TimeDeltaSensorAsync, kwargs))


class DateTimeSensorAsync(DateTimeSensor):
    """DateTimeSensor(deferrable=True), which may also start from the trigger."""

    start_trigger_args = _START_AT_MOMENT

    def __init__(
        self,
        *,
        start_from_trigger: bool = False,
        trigger_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**_always_deferrable(DateTimeSensorAsync, kwargs))
        _start_at(
            self, start_from_trigger, self._literal_target, self.end_from_trigger, trigger_kwargs
        )

    def _literal_target(self) -> datetime:
        # Airflow parses target_time when the task is created: a template cannot be rendered
        # there (nor in the triggerer, which only renders template_fields kwargs).
        try:
            return self._target()
        except ValueError as exc:  # pendulum's ParserError too
            raise DagDefinitionError(
                f"Task {self.task_id!r}: start_from_trigger needs target_time as a date and "
                f"time when the DAG is parsed, got {self.target_time!r} ({exc})"
            ) from None
