"""Deferral: a try hands its waiting to a trigger and frees its worker slot (Airflow's
`deferred` state), and comes back when the trigger fires, fails or times out.

`do_defer_try` (running → deferred, a Trigger row created), then one of
`do_fire_trigger` (the trigger's event: deferred → scheduled, `event` added to next_kwargs),
`do_fail_trigger` (the trigger raised or could not be loaded) or `time_out_deferred` (the
deferral's timeout passed): those two resume into failure, as Airflow does, with
`next_method="__fail__"` and the reason in next_kwargs, so the failure is decided, logged and
retried by the runner like any other. The try number does not change: a deferred try that
resumes is the same try. Each move is a conditional UPDATE on `state='deferred'` and the
trigger id, so two triggerers firing one trigger (a lease taken over from a live but slow
triggerer) still resume the task instance once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from dagruns.actions.asset_watchers import do_register_watcher_events
from dagruns.actions.audit import Actor
from dagruns.actions.tries import (
    RUNNER_ACTOR,
    InvalidTaskState,
    _locked,
    _move,
    _record_try,
)
from dagruns.domain import logs
from dagruns.domain.masking import masked, masking_scope
from dagruns.models import AssetWatcherModel, TaskInstance, TaskInstanceState, Trigger
from dagruns.notify import events
from dagruns.notify.trigger_wakeup import wake_triggerers
from dagruns.notify.wakeup import wake_schedulers
from dagruns.sdk.exceptions import TriggerFailureReason

State = TaskInstanceState
FAIL_METHOD = "__fail__"
TRIGGERER_ACTOR = Actor(name="triggerer")

# What a clear or a mark resets: a cleared task starts afresh at execute(), not at the method
# a discarded deferral named.
DEFERRAL_RESET: dict[str, Any] = {
    "trigger": None,
    "trigger_timeout": None,
    "next_method": None,
    "next_kwargs": None,
}


def do_defer_try(
    ti_id: uuid.UUID | str,
    try_number: int,
    *,
    classpath: str,
    trigger_kwargs: dict[str, Any],
    next_method: str,
    next_kwargs: dict[str, Any],
    trigger_timeout: timedelta | None = None,
    rendered_map_index: str | None = None,
    actor: Actor = RUNNER_ACTOR,
) -> TaskInstance:
    """running → deferred: store the trigger (kwargs encrypted) and where to resume. The try
    stays the same (no history row: it is not over). Triggerers are woken to claim it and
    schedulers to use the freed slot. Raises InvalidTaskState unless running."""
    now = timezone.now()
    with transaction.atomic():
        ti = _locked(ti_id, try_number)
        if ti.state != State.RUNNING:
            raise InvalidTaskState(ti.state, State.RUNNING)
        ti.check_transition(State.DEFERRED)
        trigger = Trigger(classpath=classpath, created_date=now)
        trigger.kwargs = trigger_kwargs
        trigger.save()
        fields: dict[str, Any] = {
            "state": State.DEFERRED,
            "trigger": trigger,
            "trigger_timeout": now + trigger_timeout if trigger_timeout is not None else None,
            "next_method": next_method,
            "next_kwargs": next_kwargs,
            "updated_at": now,
        }
        if rendered_map_index is not None:
            fields["rendered_map_index"] = rendered_map_index
        _move(ti, State.RUNNING, fields)
        _record_try(
            actor,
            State.DEFERRED,
            ti,
            {"trigger_id": trigger.pk, "classpath": classpath, "next_method": next_method},
        )
        transaction.on_commit(wake_triggerers)
        transaction.on_commit(wake_schedulers)
        events.notify(
            "ti", dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, try_number=ti.try_number
        )
    return ti


def do_fire_trigger(trigger_id: int, payload: Any, *, now: datetime | None = None) -> int:
    """The trigger yielded an event (`payload`, encoded): its task instances resume at their
    next_method with `event=payload`, and, for an asset watcher's trigger, each asset it
    watches gets an event (Airflow's `submit_event`). Returns how many task instances were
    resumed plus asset events made (0: already resumed, cleared or timed out meanwhile)."""
    now = now or timezone.now()
    with transaction.atomic():
        resumed = do_fire_triggers({trigger_id: payload}, now=now)
        return resumed + do_register_watcher_events(trigger_id, payload, now=now)


def do_fire_triggers(payloads: Mapping[int, Any], *, now: datetime | None = None) -> int:
    """Task triggers (not asset watchers') that yielded their event, each its `payload`
    (encoded), resumed together: their task instances read in one query, their triggers
    deleted in one. A triggerer hands over what fired since its last tick; one statement per
    trigger for those was most of its work while a thousand triggers fired. Returns how many
    task instances were resumed."""
    now = now or timezone.now()

    def with_event(trigger_id: int, kwargs: dict[str, Any] | None) -> dict[str, Any]:
        return {**(kwargs or {}), "event": payloads[trigger_id]}

    return _resume(list(payloads), now, with_event, None)


def do_fail_trigger(
    trigger_id: int, traceback_lines: list[str], *, now: datetime | None = None
) -> int:
    """The trigger raised (or could not be built): its task instances resume into failure,
    the traceback going to their log (Airflow's `submit_failure`)."""
    failure = {"error": TriggerFailureReason.TRIGGER_FAILURE.value, "traceback": traceback_lines}
    return _resume([trigger_id], now, lambda _trigger, _kwargs: failure, FAIL_METHOD)


def _resume(
    trigger_ids: list[int],
    now: datetime | None,
    next_kwargs_of: Callable[[int, dict[str, Any] | None], dict[str, Any]],
    next_method: str | None,
) -> int:
    now = now or timezone.now()
    resumed = 0
    with transaction.atomic():
        waiting = list(
            TaskInstance.objects.filter(trigger_id__in=trigger_ids, state=State.DEFERRED).only(
                "id", "dag_id", "run_id", "task_id", "map_index", "try_number", "next_kwargs",
                "next_method", "state", "trigger_id",
            )
        )  # fmt: skip
        for ti in waiting:
            assert ti.trigger_id is not None
            resumed += resume_deferred(
                ti, ti.trigger_id, now, next_kwargs_of(ti.trigger_id, ti.next_kwargs), next_method
            )
        # A watcher's trigger stays: it keeps watching its assets.
        Trigger.objects.filter(pk__in=trigger_ids, asset_watchers__isnull=True).delete()
    return resumed


def resume_deferred(
    ti: TaskInstance,
    trigger_id: int,
    now: datetime,
    next_kwargs: dict[str, Any],
    next_method: str | None = None,
) -> int:
    """deferred → scheduled at the same try, to resume in a worker at `next_method` (the one
    it deferred with when None) with `next_kwargs`; 1 when it moved. Call inside a transaction."""
    fields: dict[str, Any] = {
        "state": State.SCHEDULED,
        "scheduled_dttm": now,
        "trigger": None,
        "trigger_timeout": None,
        "next_kwargs": next_kwargs,
        "updated_at": now,
    }
    if next_method is not None:
        fields["next_method"] = next_method
    # Still deferred on this trigger: a clear, a timeout or another triggerer's firing that
    # committed first leaves 0 rows here, so it resumes once.
    moved = TaskInstance.objects.filter(
        pk=ti.pk, state=State.DEFERRED, trigger_id=trigger_id
    ).update(**fields)
    events.notify(
        "ti", dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, try_number=ti.try_number
    )
    if moved:
        transaction.on_commit(wake_schedulers)
    return moved


def do_append_trigger_logs(lines_by_trigger: dict[int, list[str]]) -> int:
    """Append what triggers logged to the log of the try deferred on each (the same file the
    try's runner wrote; Airflow shows a trigger's lines in its task's log too), masked by the
    server's masker: trigger kwargs may hold secrets. Returns how many lines were written."""
    waiting = TaskInstance.objects.filter(
        trigger_id__in=list(lines_by_trigger), state=State.DEFERRED
    ).only("id", "dag_id", "run_id", "task_id", "map_index", "try_number", "trigger_id")
    with masking_scope():  # one masker (one read of the secrets) for the whole batch
        return _append_trigger_logs(waiting, lines_by_trigger)


def _append_trigger_logs(waiting, lines_by_trigger: dict[int, list[str]]) -> int:
    written = 0
    for ti in waiting:
        assert ti.trigger_id is not None
        lines = [str(masked(line)) for line in lines_by_trigger[ti.trigger_id]]
        logs.append_lines(logs.ti_log_path(ti), lines)
        written += len(lines)
        events.publish(
            {
                "kind": "log",
                "dag_id": ti.dag_id,
                "run_id": ti.run_id,
                "task_id": ti.task_id,
                "try_number": ti.try_number,
            }
        )
    return written


def time_out_deferred(now: datetime) -> int:
    """Deferred task instances whose trigger_timeout passed resume into failure (Airflow's
    `check_trigger_timeouts`, run by the scheduler); their triggers are then unused and
    deleted, which stops them in their triggerer. Returns how many timed out."""
    expired = list(
        TaskInstance.objects.filter(state=State.DEFERRED, trigger_timeout__lt=now).values_list(
            "pk", "dag_id", "run_id", "task_id", "try_number"
        )
    )
    if not expired:
        return 0
    with transaction.atomic():
        # Still deferred: one that fired meanwhile resumes with its event instead.
        count = TaskInstance.objects.filter(
            pk__in=[row[0] for row in expired], state=State.DEFERRED
        ).update(
            state=State.SCHEDULED,
            scheduled_dttm=now,
            trigger=None,
            trigger_timeout=None,
            next_method=FAIL_METHOD,
            next_kwargs={"error": TriggerFailureReason.TRIGGER_TIMEOUT.value},
            updated_at=now,
        )
        delete_unused_triggers()
        if count:
            transaction.on_commit(wake_schedulers)
            transaction.on_commit(wake_triggerers)
        for _pk, dag_id, run_id, task_id, try_number in expired:
            events.notify(
                "ti", dag_id=dag_id, run_id=run_id, task_id=task_id, try_number=try_number
            )
    return count


def delete_unused_triggers() -> int:
    """Triggers no deferred task instance waits on any more (it was cleared, marked or timed
    out) and no asset watcher uses: deleted, so the triggerer running one cancels it
    (Airflow's `clean_unused`)."""
    in_use = TaskInstance.objects.filter(trigger_id=OuterRef("pk"), state=State.DEFERRED)
    watching = AssetWatcherModel.objects.filter(trigger_id=OuterRef("pk"))
    deleted, _ = Trigger.objects.filter(~Exists(in_use), ~Exists(watching)).delete()
    return deleted


def next_trigger_timeout() -> datetime | None:
    """The earliest deferral timeout still pending (the scheduler's idle wait ends then)."""
    return (
        TaskInstance.objects.filter(state=State.DEFERRED, trigger_timeout__isnull=False)
        .order_by("trigger_timeout")
        .values_list("trigger_timeout", flat=True)
        .first()
    )
