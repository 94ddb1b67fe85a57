"""A live scheduler's Celery executor taking over the in-flight tries of a dead scheduler
(Airflow's CeleryExecutor.try_adopt_task_instances), called by the scheduler's orphan check
(scheduling/adoption.py) with the tries whose queuing scheduler is dead.

Each try is claimed in the database first (one conditional UPDATE of queued_by_job_id,
dagruns/actions/adoption.py): of two schedulers adopting at once exactly one takes a try. The
adopter then tracks it as its own: it counts in its ORCH_PARALLELISM, its result is read from
the result backend (by the message id stored on the try, Airflow's external_executor_id, or by
any message of that try when the dead scheduler had not recorded the id yet), `terminate()`
revokes and kills it through its worker, and the health step sends it again if the broker
lost it, within the bound the dead scheduler had already used (the count is kept in Redis).

A result stored between the death and the adoption was published to nobody who wanted it: the
backend is searched once for the adopted tries' results (one SCAN), so their slots do not wait
for the database check to free them.
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import redis

from dagruns.actions.adoption import claim_try

if TYPE_CHECKING:
    from dagruns.models import Job, TaskInstance
    from scheduler.executors.celery import CeleryExecutor

log = logging.getLogger(__name__)

SCAN_BATCH = 1000


def adopt_tries(executor: CeleryExecutor, tis: list[TaskInstance], owners: dict[int, Job]) -> int:
    """Take over `tis` (queued or running Celery tries whose scheduler is dead; `owners` are
    those schedulers' Job rows by id). Returns how many this executor adopted."""
    assert executor.job_id is not None, "adoption needs the scheduler's Job (on_scheduler_started)"
    adopted: list[TaskInstance] = []
    claimed_own = 0
    for ti in tis:
        ti_id = str(ti.pk)
        entry = executor.in_flight_entry(ti_id)
        if entry is not None and entry.try_number == ti.try_number:
            # Ours already (a stuck queued try this scheduler re-sent): the row names us from
            # now on, so no other scheduler's check adopts it as well.
            if claim_try(ti_id, ti.try_number, ti.queued_by_job_id, executor.job_id):
                claimed_own += 1
            continue
        if not claim_try(ti_id, ti.try_number, ti.queued_by_job_id, executor.job_id):
            continue  # another scheduler took it first, or it ended meanwhile
        executor.take_over(ti_id, ti.try_number, ti.external_executor_id)
        adopted.append(ti)
        owner = owners.get(ti.queued_by_job_id or -1)
        log.info(
            "Adopted %s (try %d, message %s) from dead scheduler job %s%s",
            ti,
            ti.try_number,
            ti.external_executor_id or "not recorded",
            ti.queued_by_job_id,
            f" on {owner.hostname} (pid {owner.pid})" if owner is not None else "",
        )
    if adopted:
        _read_stored_results(executor, adopted)
        executor.log_slots()
    return len(adopted) + claimed_own


def _read_stored_results(executor: CeleryExecutor, adopted: list[TaskInstance]) -> None:
    prefix = executor.key_prefix()
    # Each adopted try's key prefix, with the moment its current run was queued.
    queued_at = {f"{prefix}{ti.pk}.{ti.try_number}.": ti.queued_dttm for ti in adopted}
    wanted = tuple(queued_at)
    client = executor.results_client
    try:
        keys = [
            key
            for key in (_text(k) for k in client.scan_iter(match=f"{prefix}*", count=SCAN_BATCH))
            if key.startswith(wanted)
        ]
        values = client.mget(keys) if keys else []
    except redis.RedisError as exc:
        # Results published from now on reach the subscription; the rest are freed by the
        # executor's database check once their tries are over.
        log.warning("could not read the stored results of adopted tries: %s", exc)
        return
    current: list[tuple[str, Any]] = []
    stale: list[str] = []
    for key, raw in zip(keys, values, strict=True):
        start = next(p for p in wanted if key.startswith(p))
        if _ended_before(raw, queued_at[start]):
            stale.append(key)
        else:
            current.append((key, raw))
    if stale:
        # A deferred or rescheduled task runs again under its try number: a result left from
        # an earlier run (it ended before this run was queued) is not this run's end.
        with contextlib.suppress(redis.RedisError):
            client.delete(*stale)
    executor.record_stored_results([k for k, _ in current], [v for _, v in current])


def _ended_before(raw: Any, moment: datetime | None) -> bool:
    """True when the stored Celery result `raw` says it was done before `moment`."""
    if raw is None or moment is None:
        return False
    try:
        done = datetime.fromisoformat(json.loads(raw)["date_done"])
    except (ValueError, KeyError, TypeError):
        return False  # no date to tell by: counted, as before adoption knew of runs
    if done.tzinfo is None:  # Celery writes UTC
        done = done.replace(tzinfo=UTC)
    return done < moment


def _text(key: Any) -> str:
    return key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
