"""BaseSensorOperator: a task that waits for a condition, poking it until it holds.

Airflow 3's semantics (task-sdk ``airflow/sdk/bases/sensor.py``):

* ``mode="poke"`` keeps the worker slot and sleeps ``poke_interval`` between pokes;
  ``mode="reschedule"`` ends the run of the try after each negative poke by raising
  AirflowRescheduleException: the task instance becomes ``up_for_reschedule``, frees its slot,
  and the scheduler runs it again (same try number) once the reschedule date has passed.
* ``timeout`` counts from the first poke of the try, across reschedules (the server keeps a
  TaskReschedule row per reschedule; the first one's start date is where the clock started).
  Past it: AirflowSensorTimeout, which fails the task without retries, or a skip with
  ``soft_fail``.
* ``soft_fail``: AirflowSensorTimeout, AirflowTaskTimeout and AirflowFailException from
  ``poke`` become a skip. ``never_fail``: any error from ``poke`` becomes a skip.
  ``silent_fail``: an ordinary error from ``poke`` is logged and counts as "not yet".
* ``exponential_backoff`` lengthens the wait between pokes (with a deterministic jitter),
  capped by ``max_wait`` and by the time left before ``timeout``.

``deferrable=True`` hands the wait to the triggerer (the time sensors and FileSensor defer on
the standard triggers, ExternalTaskSensor on WorkflowTrigger); a resumed sensor whose deferral
timed out fails with AirflowSensorTimeout, and one whose trigger failed is skipped under
``soft_fail``, as Airflow.
"""

from __future__ import annotations

import hashlib
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..baseoperator import BaseOperator
from ..exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
    DagDefinitionError,
    TaskDeferralError,
    TaskDeferralTimeout,
)

# Airflow's [sensors] default_timeout: a week.
DEFAULT_SENSOR_TIMEOUT = 7 * 24 * 60 * 60.0
# What soft_fail (and never_fail) turn into a skip, from poke().
SOFT_FAIL_EXCEPTIONS = (AirflowSensorTimeout, AirflowTaskTimeout, AirflowFailException)


class PokeReturnValue:
    """What ``poke`` may return instead of a bool: ``is_done``, and the value the sensor
    returns (its ``return_value`` XCom) once done."""

    def __init__(self, is_done: bool, xcom_value: Any | None = None) -> None:
        self.is_done = is_done
        self.xcom_value = xcom_value

    def __bool__(self) -> bool:
        return bool(self.is_done)

    def __repr__(self) -> str:
        return f"PokeReturnValue(is_done={self.is_done!r}, xcom_value={self.xcom_value!r})"


def _seconds(value: Any, name: str, task_id: str, *, optional: bool = False) -> float | None:
    """A non-negative timedelta or number of seconds, as Airflow accepts them."""
    if value is None and optional:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise DagDefinitionError(
            f"Task {task_id!r}: {name} must be a timedelta or a non-negative number of "
            f"seconds, got {type(value).__name__}: {value!r}"
        )
    if seconds < 0:
        raise DagDefinitionError(f"Task {task_id!r}: {name} must be non-negative, got {value!r}")
    return seconds


class BaseSensorOperator(BaseOperator):
    """Subclass it and implement ``poke(context)``, returning True (or a PokeReturnValue
    whose ``is_done`` is True) once the condition holds."""

    ui_color: str = "#e6f1f2"
    valid_modes: Iterable[str] = ("poke", "reschedule")
    _is_sensor: bool = True

    def __init__(
        self,
        *,
        poke_interval: timedelta | float = 60,
        timeout: timedelta | float | None = None,
        soft_fail: bool = False,
        mode: str = "poke",
        exponential_backoff: bool = False,
        max_wait: timedelta | float | None = None,
        silent_fail: bool = False,
        never_fail: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        task_id = self.task_id
        self.poke_interval: float = _seconds(poke_interval, "poke_interval", task_id) or 0.0
        if timeout is None:
            timeout = DEFAULT_SENSOR_TIMEOUT
        self.timeout: float = _seconds(timeout, "timeout", task_id) or 0.0
        max_wait_seconds = _seconds(max_wait, "max_wait", task_id, optional=True)
        self.max_wait: timedelta | None = (
            timedelta(seconds=max_wait_seconds) if max_wait_seconds is not None else None
        )
        if soft_fail and never_fail:
            raise DagDefinitionError(
                f"Task {task_id!r}: soft_fail and never_fail are mutually exclusive, you can "
                "not provide both."
            )
        self.soft_fail = soft_fail
        self.never_fail = never_fail
        self.silent_fail = silent_fail
        self.exponential_backoff = exponential_backoff
        self.mode = mode
        if self.mode not in self.valid_modes:
            raise DagDefinitionError(
                f"Task {task_id!r}: the mode must be one of {list(self.valid_modes)}; "
                f"received {mode!r}."
            )

    @property
    def reschedule(self) -> bool:
        """Whether the sensor frees its slot between pokes (mode="reschedule")."""
        return self.mode == "reschedule"

    def poke(self, context: Mapping[str, Any]) -> bool | PokeReturnValue:
        """Check the condition once; override it."""
        raise AirflowException("Override me.")

    def execute(self, context: Mapping[str, Any]) -> Any:
        started_at: datetime | float
        run_duration: Callable[[], float]
        if self.reschedule:
            # Across reschedules the clock lives in the database: the first reschedule's start.
            first = context["ti"].get_first_reschedule_date(context)
            start_date = first or datetime.now(UTC)
            started_at = start_date

            def run_duration() -> float:
                return (datetime.now(UTC) - start_date).total_seconds()

        else:
            start_monotonic = started_at = time.monotonic()

            def run_duration() -> float:
                return time.monotonic() - start_monotonic

        poke_count = 1
        xcom_value = None
        while True:
            poke_return = self._poke_once(context)
            if poke_return:
                if isinstance(poke_return, PokeReturnValue):
                    xcom_value = poke_return.xcom_value
                break
            if run_duration() > self.timeout:
                message = (
                    f"Sensor has timed out; run duration of {run_duration()} seconds exceeds "
                    f"the specified timeout of {self.timeout}."
                )
                if self.soft_fail:
                    raise AirflowSkipException(message)
                raise AirflowSensorTimeout(message)
            interval = self._get_next_poke_interval(started_at, run_duration, poke_count)
            if self.reschedule:
                raise AirflowRescheduleException(datetime.now(UTC) + timedelta(seconds=interval))
            time.sleep(interval)
            poke_count += 1
        self.log.info("Success criteria met. Exiting.")
        return xcom_value

    def resume_execution(
        self, next_method: str, next_kwargs: dict[str, Any] | None, context: Mapping[str, Any]
    ) -> Any:
        """Airflow's: a deferral that timed out is the sensor's timeout; that and a failed
        trigger are skipped under soft_fail or never_fail (the nesting is Airflow's: the
        converted timeout reaches the outer handler)."""
        try:
            try:
                return super().resume_execution(next_method, next_kwargs, context)
            except TaskDeferralTimeout as err:
                raise AirflowSensorTimeout(*err.args) from err
        except (AirflowException, TaskDeferralError) as err:
            if self.soft_fail:
                raise AirflowSkipException("Skipping due to soft_fail is set to True.") from err
            if self.never_fail:
                raise AirflowSkipException("Skipping due to never_fail is set to True.") from err
            raise

    def _poke_once(self, context: Mapping[str, Any]) -> Any:
        """One poke, with soft_fail / never_fail / silent_fail applied to what it raises."""
        try:
            return self.poke(context)
        except SOFT_FAIL_EXCEPTIONS as err:
            if self.soft_fail:
                raise AirflowSkipException("Skipping due to soft_fail is set to True.") from err
            if self.never_fail:
                raise AirflowSkipException("Skipping due to never_fail is set to True.") from err
            raise
        except AirflowSkipException:
            raise
        except Exception as err:
            if self.silent_fail:
                self.log.error("Sensor poke failed: \n %s", traceback.format_exc())
                return False
            if self.never_fail:
                raise AirflowSkipException("Skipping due to never_fail is set to True.") from err
            raise

    def _get_next_poke_interval(
        self, started_at: datetime | float, run_duration: Callable[[], float], poke_count: int
    ) -> float:
        """poke_interval, or with exponential_backoff a growing, jittered interval (Airflow's
        formula: at least poke_interval * 2 ** (n - 2), at most twice that, picked by a hash
        so every run agrees), never past timeout and never over max_wait."""
        if not self.exponential_backoff:
            return self.poke_interval
        if self.reschedule:
            # Each reschedule is a fresh process: estimate how many pokes fit the time so far.
            elapsed = run_duration()
            cumulative, estimated = 0.0, 0
            while cumulative <= elapsed:
                estimated += 1
                cumulative += self._backoff(started_at, estimated)
            poke_count = estimated or poke_count
        interval = min(self.timeout - int(run_duration()), self._backoff(started_at, poke_count))
        if self.max_wait:
            interval = min(self.max_wait.total_seconds(), interval)
        self.log.info("new %s interval is %s", self.mode, interval)
        return interval

    def _backoff(self, started_at: datetime | float, poke_count: int) -> float:
        min_backoff = max(int(self.poke_interval * (2 ** (poke_count - 2))), 1)
        digest = hashlib.sha1(
            f"{self.dag_id}#{self.task_id}#{started_at}#{poke_count}".encode(),
            usedforsecurity=False,
        ).hexdigest()
        return float(min(min_backoff + int(digest, 16) % min_backoff, MAX_BACKOFF))


# timedelta's largest number of seconds less one, Airflow's cap of a jittered interval.
MAX_BACKOFF = timedelta.max.total_seconds() - 1


def poke_mode_only(cls: type[BaseSensorOperator]) -> type[BaseSensorOperator]:
    """Class decorator: the sensor only works in poke mode (setting another mode fails)."""
    if not isinstance(cls, type) or not issubclass(cls, BaseSensorOperator):
        raise ValueError(f"poke_mode_only decorates BaseSensorOperator subclasses, not {cls!r}")

    def mode_getter(self: Any) -> str:
        return "poke"

    def mode_setter(self: Any, value: str) -> None:
        if value != "poke":
            raise DagDefinitionError(f"Cannot set mode to '{value}'. Only 'poke' is acceptable")

    setattr(cls, "mode", property(mode_getter, mode_setter))  # noqa: B010 (mypy: str attr)
    return cls
