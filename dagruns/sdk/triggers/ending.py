"""The worker's half of a task-end event (TaskSuccessEvent, TaskFailedEvent,
TaskSkippedEvent) for a task whose end must run in a worker: the triggerer ends other tasks
itself (dagruns/actions/trigger_end.py), but task callbacks are user code that only a worker
runs, so such a task resumes at TRIGGER_END_METHOD and ends here, as the event asked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..exceptions import AirflowFailException, AirflowSkipException
from .serde import decode

# next_kwargs: {"state": "success" | "failed" | "skipped", "xcoms": {key: JSON value}}.
TRIGGER_END_METHOD = "__end_from_trigger__"


def end_as_the_trigger_asked(next_kwargs: Mapping[str, Any], context: Mapping[str, Any]) -> None:
    """Push the event's XComs, then end the try in the event's state (a failure is final, as
    Airflow's TaskFailedEvent: no retry)."""
    state = next_kwargs.get("state")
    for key, value in (decode(next_kwargs.get("xcoms")) or {}).items():
        context["ti"].xcom_push(key=key, value=value)
    if state == "skipped":
        raise AirflowSkipException("The trigger ended the task as skipped (TaskSkippedEvent)")
    if state == "failed":
        raise AirflowFailException("The trigger ended the task as failed (TaskFailedEvent)")
    if state != "success":
        raise AirflowFailException(f"The trigger asked to end the task in unknown state {state!r}")
