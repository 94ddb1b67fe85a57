"""Pluggable retry policies (Airflow 3.3's ``retry_policy=`` on any task).

A policy is asked, in the task runner, what to do about the exception that failed a try: fail
now (whatever retries are left), retry after a delay of its own (still within the task's
``retries``), or leave it to the usual rule. ``AirflowFailException`` and a sensor's timeout
fail the try without asking it, as in Airflow. The runner (scheduler/runner/task_process.py)
evaluates it; the server only sees ``fail_without_retry`` and ``retry_delay_seconds``.
"""

from __future__ import annotations

import abc
import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["ExceptionRetryPolicy", "RetryAction", "RetryDecision", "RetryPolicy", "RetryRule"]


class RetryAction(Enum):
    """What a failure leads to."""

    RETRY = "retry"  # retry (never beyond the task's retries)
    FAIL = "fail"  # fail now, whatever retries are left
    DEFAULT = "default"  # the task's usual retry rule


@dataclass(frozen=True)
class RetryDecision:
    action: RetryAction = RetryAction.DEFAULT
    retry_delay: timedelta | None = None  # None: the task's own delay
    reason: str | None = None  # logged with the decision

    def __post_init__(self) -> None:
        # A policy's decision is read after the task failed, where a wrong type would crash
        # the runner instead of deciding: refused here, naming the field.
        if not isinstance(self.action, RetryAction):
            raise TypeError(
                f"RetryDecision.action must be a RetryAction (RETRY, FAIL or DEFAULT), not "
                f"{self.action!r}"
            )
        if self.retry_delay is not None and not isinstance(self.retry_delay, timedelta):
            raise TypeError(
                f"RetryDecision.retry_delay must be a datetime.timedelta or None, not "
                f"{type(self.retry_delay).__name__} {self.retry_delay!r}"
            )
        if self.reason is not None and not isinstance(self.reason, str):
            raise TypeError(f"RetryDecision.reason must be a string or None, not {self.reason!r}")

    @classmethod
    def fail(cls, reason: str | None = None) -> RetryDecision:
        return cls(action=RetryAction.FAIL, reason=reason)

    @classmethod
    def retry(cls, delay: timedelta | None = None, reason: str | None = None) -> RetryDecision:
        return cls(action=RetryAction.RETRY, retry_delay=delay, reason=reason)

    @classmethod
    def default(cls) -> RetryDecision:
        return cls(action=RetryAction.DEFAULT)


class RetryPolicy(abc.ABC):
    """Subclass and implement `evaluate` for a policy of your own; it runs in the task's
    process, with the exception object itself."""

    @abc.abstractmethod
    def evaluate(
        self,
        exception: BaseException,
        try_number: int,
        max_tries: int,
        context: Mapping[str, Any] | None = None,
    ) -> RetryDecision:
        """The decision for a try that failed with `exception`."""

    def serialize(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement serialize()")

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> RetryPolicy:
        raise NotImplementedError


ExceptionSpec = type[BaseException] | str


def _import_exception(path: str) -> type[BaseException]:
    module_name, _, name = path.rpartition(".")
    if not module_name or module_name.startswith(".") or not name:
        raise ImportError(f"{path!r} is not an absolute dotted path to an exception class")
    value = getattr(importlib.import_module(module_name), name)
    if not (isinstance(value, type) and issubclass(value, BaseException)):
        raise ImportError(f"{path} is not an exception class")
    return value


def _path_of(spec: ExceptionSpec) -> str:
    return spec if isinstance(spec, str) else f"{spec.__module__}.{spec.__qualname__}"


@dataclass
class RetryRule:
    """One exception (a class or its dotted path; or a list of them) and what it leads to."""

    exception: ExceptionSpec | list[ExceptionSpec]
    action: RetryAction = RetryAction.RETRY
    retry_delay: timedelta | None = None
    reason: str | None = None
    match_subclasses: bool = True
    _resolved: list[type[BaseException]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self._specs:
            raise ValueError("RetryRule exception must name at least one exception class")
        for spec in self._specs:
            if isinstance(spec, str):
                if "." not in spec or spec.startswith(".") or spec.endswith("."):
                    raise ValueError(
                        "RetryRule exception string must be a dotted import path "
                        f"(e.g. 'builtins.ValueError'), got {spec!r}"
                    )
                try:
                    _import_exception(spec)
                except (ImportError, AttributeError):
                    # It may be importable where the task runs (another worker image).
                    log.warning(
                        "RetryRule: exception class %r could not be imported at parse time. "
                        "It may resolve on the worker, but check for typos.",
                        spec,
                    )
            elif not (isinstance(spec, type) and issubclass(spec, BaseException)):
                raise TypeError(
                    f"RetryRule exception must be an exception class or its dotted path, "
                    f"got {spec!r}"
                )
        if not isinstance(self.action, RetryAction):
            raise TypeError(f"RetryRule action must be a RetryAction, got {self.action!r}")
        if self.retry_delay is not None and not isinstance(self.retry_delay, timedelta):
            raise TypeError(f"RetryRule retry_delay must be a timedelta, got {self.retry_delay!r}")

    @property
    def _specs(self) -> list[ExceptionSpec]:
        return self.exception if isinstance(self.exception, list) else [self.exception]

    @property
    def exception_path(self) -> str:
        return ",".join(_path_of(spec) for spec in self._specs)

    def _classes(self) -> list[type[BaseException]]:
        if self._resolved is None:
            classes = []
            for spec in self._specs:
                if isinstance(spec, str):
                    try:
                        classes.append(_import_exception(spec))
                    except (ImportError, AttributeError):
                        log.warning("Could not import exception class %r, it will not match", spec)
                else:
                    classes.append(spec)
            self._resolved = classes
        return self._resolved

    def matches(self, exc: BaseException) -> bool:
        classes = self._classes()
        if self.match_subclasses:
            return bool(classes) and isinstance(exc, tuple(classes))
        return type(exc) in classes

    def serialize(self) -> dict[str, Any]:
        paths = [_path_of(spec) for spec in self._specs]
        data: dict[str, Any] = {
            "exception": paths if len(paths) > 1 else paths[0],
            "action": self.action.value,
            "match_subclasses": self.match_subclasses,
        }
        if self.retry_delay is not None:
            data["retry_delay"] = self.retry_delay.total_seconds()
        if self.reason is not None:
            data["reason"] = self.reason
        return data

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> RetryRule:
        delay = data.get("retry_delay")
        return cls(
            exception=data["exception"],
            action=RetryAction(data["action"]),
            retry_delay=timedelta(seconds=delay) if delay is not None else None,
            reason=data.get("reason"),
            match_subclasses=data.get("match_subclasses", True),
        )


class ExceptionRetryPolicy(RetryPolicy):
    """Rules tried in order, the first that matches decides; none: `default`."""

    def __init__(self, rules: list[RetryRule], default: RetryAction = RetryAction.DEFAULT) -> None:
        if not isinstance(rules, list | tuple):
            raise TypeError(
                f"ExceptionRetryPolicy rules must be a list of RetryRule objects, not {rules!r}"
            )
        if not all(isinstance(rule, RetryRule) for rule in rules):
            raise TypeError("ExceptionRetryPolicy rules must be RetryRule objects")
        if not isinstance(default, RetryAction):
            raise TypeError(f"ExceptionRetryPolicy default must be a RetryAction, got {default!r}")
        self.rules = list(rules)
        self.default = default

    def evaluate(
        self,
        exception: BaseException,
        try_number: int,
        max_tries: int,
        context: Mapping[str, Any] | None = None,
    ) -> RetryDecision:
        for rule in self.rules:
            if rule.matches(exception):
                return RetryDecision(
                    action=rule.action,
                    retry_delay=rule.retry_delay,
                    reason=rule.reason or f"Matched rule for {type(exception).__name__}",
                )
        return RetryDecision(action=self.default)

    def serialize(self) -> dict[str, Any]:
        return {
            "__type": "ExceptionRetryPolicy",
            "rules": [rule.serialize() for rule in self.rules],
            "default": self.default.value,
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> ExceptionRetryPolicy:
        return cls(
            rules=[RetryRule.deserialize(rule) for rule in data["rules"]],
            default=RetryAction(data.get("default", "default")),
        )
