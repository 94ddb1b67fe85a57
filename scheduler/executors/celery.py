"""The Celery executor (`ORCH_EXECUTOR=celery`): each try travels as one message of the thin task
`orchestrator.run_try` (scheduler/tasks.py) to the task's queue, and a Celery worker
(`manage.py celery worker`, scheduler/worker/) runs it through the same task runner as the local
executor. Airflow's CeleryExecutor, with these choices:

* `queue()` sends the workload's JSON by task name (`send_task`: the scheduler never imports
  the worker's side) to `workload.queue` (the operator's `queue`, default `default`), with a
  message priority from `priority_weight` (`message_priority`). The Celery task id names the try
  (`<ti id>.<try>.<n>`); a send that fails (broker down) is kept and sent again by `sync()`.
* `sync()` takes the runners' exit codes from the result backend's own publications: the
  backend publishes each result as it stores it, and the executor's subscription to them is
  its wait handle, so the scheduler wakes the moment a runner ended (its slot is free at once,
  as the local executor's process sentinels make it) and reads the exit code from the message
  itself, with no request to Redis per tick. A result published while the subscription was
  down (Redis restarted) is found by one MGET for every message in flight (Airflow's bulk state
  fetcher): on every tick while there is no subscription, once after each (re)subscription and
  every RESULT_POLL_EVERY as a safety net; never waiting long for a dead Redis (short socket
  timeouts, then a growing pause before the next attempt). Every 2 s it also drops in-flight
  entries whose try is no longer queued or running in the database: a result lost with Redis
  (restarted, nothing on disk) must not hold a slot of ORCH_PARALLELISM for ever.
  A try a worker ran in a Kubernetes pod (scheduler/worker/pods.py) ends with a RunTryResult
  instead of a bare exit code: its reason (the pod never started, was OOMKilled or deleted) and
  details (what the container printed) reach the try's log through the event, as the
  Kubernetes executor's do.
* `open_slots` = ORCH_PARALLELISM minus the tries in flight (sent, not yet ended), and 0 while
  the broker is unreachable: tries then stay `scheduled` instead of taking tokens into a queue
  that cannot take them.
* `terminate()` broadcasts a remote-control command to the workers: it revokes the try's
  messages not started yet and kills the runner (with its process group) where it runs. The
  broadcast leaves from `sync()` TERMINATE_GRACE later, and only if the try has not ended on
  its own meanwhile (a try that just reported looks orphaned until its result arrives).
* Tries run on the workers, not in this process: a stopping scheduler neither waits for them
  nor kills them (`tries_to_drain()` is empty), and recovery at start leaves them to their
  workers (scheduling/recovery.py).
* Messages the broker lost are sent again for the same try by the scheduler's health step
  (`can_resend`; scheduling/health.py and ORCH_TASK_QUEUED_RESENDS). How many times a try was
  sent again is also kept in Redis, so the bound holds across schedulers, beat and adoption.
* Each message id is stored on its try (Airflow's `external_executor_id`), so a live
  scheduler adopts the tries of a dead one (`try_adopt_task_instances`, celery_adoption.py):
  it counts them in its slots, reads their results, can terminate them and sends them again
  when lost. The ids are written in one UPDATE every DB_CHECK_EVERY for the tries sent
  meanwhile, not per tick: a commit took a median 10 ms on this loaded machine's PostgreSQL,
  and the adopter does without the id of a try sent just before its scheduler died (see the
  differences below).
* `sync()` logs "Celery executor: N of P slots in use" whenever N changes, as the Kubernetes
  executor does: the outside view of a slot leak, and of adopted tries taking slots.

Differences from Airflow: the result backend is always the broker's Redis; an adopted try whose
message id was not recorded yet (its scheduler died within DB_CHECK_EVERY of sending it) is
followed by the results published for any message of that try, not by one id.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pydantic
import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from dagruns.actions.adoption import record_external_executor_ids
from orchestrator_site.broker import broker_url, broker_variable, safe_url
from orchestrator_site.celery import RUN_TRY_TASK, TERMINATE_TRY_COMMAND, RunTryResult, make_app
from orchestrator_site.config import SettingError
from scheduler.executors.base import BaseExecutor, ExecutorEvent
from scheduler.runner.workload import Workload

log = logging.getLogger(__name__)

DB_CHECK_EVERY = 2.0
# The MGET that catches a result whose publication the subscription missed (see the docstring).
RESULT_POLL_EVERY = 2.0
RETRY_MIN = 0.5
RETRY_MAX = 30.0
REDIS_TIMEOUT = 1.0
# A send may reconnect once (a Redis restart leaves stale pooled connections), never more:
# the scheduler's tick must not wait on a broker that is down.
# A try the database no longer has queued or running is, most of the time, one whose runner
# has just reported its end and is exiting: its result arrives within moments and ends it. The
# scheduler's orphan check asks to terminate it all the same (it cannot tell a try that ended
# from one cleared or marked meanwhile), so the kill through the worker waits this long and is
# sent only if the try is still in flight: no broadcast, revoke and kill for every finished try.
TERMINATE_GRACE = 1.0
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# Where the number of times a try was sent again is kept (see resends_done).
RESEND_COUNT_PREFIX = "orchestrator:resends:"
# Raise the stored count to ARGV[1] (expiring after ARGV[2] s) only if it is lower: 1 when this
# caller reserved that re-send, 0 when another scheduler (or beat) already made it.
RESERVE_RESEND = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


def _resend_count_ttl() -> int:
    """Seconds a try's re-send count is kept: until the try can no longer be waiting (it is
    failed at the queued timeout)."""
    return int(settings.ORCH.task_queued_timeout) + 3600


def message_priority(priority_weight: int) -> int:
    """The Redis message priority (0 is served first, 9 last) of a task's priority_weight
    (higher is more important, unbounded): one level per doubling of the weight, so weights
    1, 2-3, 4-7, ... 256-511 get 9, 8, 7, ... 1, and 512 or more gets 0."""
    if priority_weight <= 1:
        return 9
    return 9 - min(9, int(math.log2(priority_weight)))


@dataclass
class InFlight:
    """The messages sent for one try, and the exit codes of those that ended."""

    try_number: int
    task_ids: list[str] = field(default_factory=list)
    # Celery task id -> how its runner ended (None: the message ended without a runner's end).
    codes: dict[str, RunTryResult | None] = field(default_factory=dict)
    resends: int = 0
    terminated: bool = False
    terminate_at: float | None = None  # monotonic time to kill it through its worker
    # Taken over from a dead scheduler: the results of any message of this try count, since
    # the dead one may have sent messages whose ids it had not recorded.
    adopted: bool = False

    def takes(self, ti_id: str, task_id: str) -> bool:
        """True when the result of message `task_id` is one of this entry's."""
        if task_id in self.task_ids:
            return True
        return self.adopted and task_id.startswith(f"{ti_id}.{self.try_number}.")

    def ended(self) -> bool:
        return all(task_id in self.codes for task_id in self.task_ids)

    def outcome(self) -> RunTryResult | None:
        """The runner's end that matters: a failing one, else a 0; None when no message ran a
        runner to its end (revoked, lost with its pool process)."""
        ends = [c for c in self.codes.values() if c is not None]
        if not ends:
            return None
        failing = [c for c in ends if c.returncode != 0]
        return failing[0] if failing else ends[0]


def _run_try_result(ti_id: str, result: Any) -> RunTryResult | None:
    """A runner's exit code (int), or a RunTryResult's JSON (a try run in a pod)."""
    if isinstance(result, bool):
        return None
    if isinstance(result, int):
        return RunTryResult(returncode=result)
    try:
        return RunTryResult.model_validate(result)
    except pydantic.ValidationError as exc:
        log.warning("try %s: unreadable run_try result: %s", ti_id, exc)
        return None


class CeleryExecutor(BaseExecutor):
    name = "celery"

    def __init__(self, parallelism: int) -> None:
        super().__init__(parallelism)
        try:
            self.url = broker_url(settings.ORCH)
        except SettingError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
        self.variable = broker_variable(settings.ORCH)
        self.app = make_app(settings.ORCH, sender=True)
        self._results = redis.Redis.from_url(
            self.url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        self._in_flight: dict[str, InFlight] = {}
        self._unsent: dict[str, Workload] = {}  # Celery task id -> its workload, not sent yet
        self._broker_down = False
        self._retry_at = 0.0
        self._retry_delay = 0.0
        self._next_db_check = 0.0
        self._pubsub: Any = None
        self._subscribe_at = 0.0
        self._next_poll = 0.0  # monotonic time of the next MGET of every result in flight
        self.job_id: int | None = None  # this scheduler's Job (on_scheduler_started)
        # (ti id, try number) -> the message id sent last; stored on the try by the next
        # database check (_record_message_ids).
        self._ids_to_record: dict[tuple[str, int], str] = {}
        self._logged_running: int | None = None  # running_count as last logged (see sync)

    # -- the contract --------------------------------------------------------------------

    def start(self) -> None:
        """Check the broker once: unreachable is an error line naming the variable, not a
        crash; sends wait until it answers (retried with a growing pause)."""
        # The first send imports kombu's transport and builds the producer pool and the result
        # backend (≈0.3 s, more on a busy machine): pay it now, not in the tick that queues the
        # first try. Nothing here connects (the broker may be down).
        self.app.backend  # noqa: B018 — built on first access
        with self.app.producer_or_acquire():
            pass
        try:
            self._results.ping()
        except redis.RedisError as exc:
            self._broker_failed(exc)
            return
        self._subscribe()

    def on_scheduler_started(self, job_id: int) -> None:
        self.job_id = job_id

    def queue(self, workload: Workload) -> None:
        entry = self._in_flight.get(workload.ti_id)
        # The same try queued again after its runner was told to stop is a new run of it (a
        # reschedule-mode sensor back from up_for_reschedule), not a resend: a resend never
        # follows a termination. Its own entry keeps the old run's pending kill off it.
        if entry is None or entry.try_number != workload.try_number or entry.terminated:
            entry = InFlight(workload.try_number)
            self._in_flight[workload.ti_id] = entry
        task_id = f"{workload.ti_id}.{workload.try_number}.{uuid.uuid4().hex[:8]}"
        entry.task_ids.append(task_id)
        if self._broker_down and time.monotonic() < self._retry_at:
            self._unsent[task_id] = workload
            return
        self._send(workload, task_id)

    def sync(self) -> list[ExecutorEvent]:
        if self._broker_down and time.monotonic() < self._retry_at:
            return []
        if self._unsent:
            self._send_unsent()
        self._read_published()
        if self._pubsub is None or time.monotonic() >= self._next_poll:
            self._poll_results()
        events = self._ended_tries()
        self._send_due_terminations()
        if time.monotonic() >= self._next_db_check:
            self._next_db_check = time.monotonic() + DB_CHECK_EVERY
            self._record_message_ids()
            self._forget_finished_tries()
        self.log_slots()
        return events

    def log_slots(self) -> None:
        """Say how many slots are in use whenever that changes (see the module docstring)."""
        if self.running_count != self._logged_running:
            self._logged_running = self.running_count
            log.info("Celery executor: %d of %d slots in use", self.running_count, self.parallelism)

    def terminate(self, ti_id: str) -> bool:
        """Kill the try through its worker, TERMINATE_GRACE from now unless it ends first."""
        entry = self._in_flight.get(ti_id)
        if entry is None or entry.terminated:
            return False
        entry.terminated = True
        for task_id in entry.task_ids:
            self._unsent.pop(task_id, None)
        entry.terminate_at = time.monotonic() + TERMINATE_GRACE
        return True

    def _send_due_terminations(self) -> None:
        now = time.monotonic()
        due = [
            (ti_id, entry)
            for ti_id, entry in self._in_flight.items()
            if entry.terminate_at is not None and now >= entry.terminate_at
        ]
        if not due:
            return
        for _ti_id, entry in due:
            entry.terminate_at = None
        # Every due try's messages are revoked before any runner is killed: a kill frees a
        # pool thread, which would otherwise take a waiting message whose revocation was still
        # queued behind the kill (workers handle control messages in order).
        self._revoke([task_id for _ti_id, entry in due for task_id in entry.task_ids])
        for ti_id, entry in due:
            self._broadcast_terminate(ti_id, entry)

    def _revoke(self, task_ids: list[str]) -> None:
        if not task_ids:
            return
        try:
            self.app.control.revoke(task_ids)
        except Exception as exc:  # kombu/redis errors vary by transport
            # The terminate broadcasts that follow revoke them too, one try at a time.
            log.warning("could not revoke %d message(s): %s", len(task_ids), exc)

    def _broadcast_terminate(self, ti_id: str, entry: InFlight) -> None:
        try:
            self.app.control.broadcast(
                TERMINATE_TRY_COMMAND,
                arguments={
                    "ti_id": ti_id,
                    "try_number": entry.try_number,
                    "task_ids": list(entry.task_ids),
                },
                reply=False,
            )
        except Exception as exc:  # kombu/redis errors vary by transport
            # The runner's next heartbeat is refused (the try is no longer running): it kills
            # its task on its own.
            log.warning("could not ask the workers to terminate try %s: %s", ti_id, exc)

    def running_tries(self) -> dict[str, int]:
        return {ti_id: entry.try_number for ti_id, entry in self._in_flight.items()}

    def tries_to_drain(self) -> dict[str, int]:
        return {}  # the workers own their tries; a stopping scheduler leaves them running

    def can_resend(self, executor_name: str) -> bool:
        return executor_name == self.name

    def resends_done(self, ti_id: str, try_number: int) -> int:
        """The re-sends of this try by this executor or, kept in Redis, by any scheduler or
        beat (a try adopted from a dead scheduler keeps the count it had there)."""
        entry = self._in_flight.get(ti_id)
        here = entry.resends if entry is not None and entry.try_number == try_number else 0
        try:
            raw = self._results.get(resend_count_key(ti_id, try_number))
        except redis.RedisError:
            return here  # the broker is down: nothing is sent meanwhile anyway
        return max(here, int(raw) if raw is not None else 0)

    def resend(self, workload: Workload, count: int) -> None:
        if not self.reserve_resend(workload.ti_id, workload.try_number, count):
            return  # another scheduler's health step (or beat) made this re-send already
        self.queue(workload)
        self._in_flight[workload.ti_id].resends = count

    def reserve_resend(self, ti_id: str, try_number: int, count: int) -> bool:
        """Take the `count`-th re-send of the try, atomically across schedulers and beat (the
        count was read first and written after the send: two of them could both send it).
        With Redis unreachable nothing is sent meanwhile anyway: reserved here."""
        try:
            taken = self._results.eval(
                RESERVE_RESEND, 1, resend_count_key(ti_id, try_number), count, _resend_count_ttl()
            )
        except redis.RedisError:
            return True
        return bool(taken)

    def store_resends(self, ti_id: str, try_number: int, count: int) -> None:
        with contextlib.suppress(redis.RedisError):
            self._results.set(resend_count_key(ti_id, try_number), count, ex=_resend_count_ttl())

    # -- adoption (Airflow's try_adopt_task_instances) ------------------------------------

    def adopting_executors(self) -> frozenset[str]:
        return frozenset({self.name})

    def try_adopt_task_instances(self, tis: list[Any], owners: dict[int, Any]) -> int:
        from scheduler.executors.celery_adoption import adopt_tries

        return adopt_tries(self, tis, owners)

    def take_over(self, ti_id: str, try_number: int, message_id: str | None) -> None:
        """Track an adopted try (celery_adoption.py has claimed it in the database)."""
        # A stale id (an earlier try's, or none) is not followed: results of any message of
        # this try are (InFlight.takes).
        known = (
            [message_id] if message_id and message_id.startswith(f"{ti_id}.{try_number}.") else []
        )
        self._in_flight[ti_id] = InFlight(try_number, task_ids=known, adopted=True)
        self._next_poll = 0.0  # results stored before the adoption are read on the next sync

    def record_stored_results(self, keys: list[str], values: list[Any]) -> None:
        """Results of adopted tries found in the backend (published before the adoption)."""
        prefix = self._key_prefix()
        done = [
            key
            for key, raw in zip(keys, values, strict=True)
            if raw is not None and self._record(key[len(prefix) :], raw)
        ]
        self._delete_results(done)

    def in_flight_entry(self, ti_id: str) -> InFlight | None:
        return self._in_flight.get(ti_id)

    @property
    def results_client(self) -> redis.Redis:
        return self._results

    def key_prefix(self) -> str:
        return self._key_prefix()

    @property
    def running_count(self) -> int:
        return len(self._in_flight)

    @property
    def open_slots(self) -> int:
        if self._broker_down:
            return 0
        return max(0, self.parallelism - self.running_count)

    def wait_handles(self) -> list[Any]:
        if self._pubsub is None:
            self._subscribe()
        sock = getattr(getattr(self._pubsub, "connection", None), "_sock", None)
        return [sock] if sock is not None else []

    def end(self) -> None:
        with contextlib.suppress(Exception):  # a stopping scheduler's database may be gone
            self._record_message_ids()
        self._unsubscribe()
        if self._unsent:
            log.warning(
                "stopping with %d message(s) not sent (broker unreachable); their tries stay "
                "queued and are sent again by a scheduler's health step",
                len(self._unsent),
            )
        self._results.close()
        self.app.close()

    # -- sending -------------------------------------------------------------------------

    def _send(self, workload: Workload, task_id: str) -> bool:
        try:
            self.app.send_task(
                RUN_TRY_TASK,
                args=[workload.to_json_bytes().decode("utf-8")],
                kwargs={"ti_id": workload.ti_id, "try_number": workload.try_number},
                task_id=task_id,
                queue=workload.queue,
                priority=message_priority(workload.priority_weight),
                # What Celery logs and shows instead of the arguments: never the token.
                argsrepr=f"({workload.label()!r},)",
                kwargsrepr="{}",
                retry=True,
                retry_policy=PUBLISH_RETRY,
            )
        except Exception as exc:  # kombu/redis errors vary by transport
            self._unsent[task_id] = workload
            self._broker_failed(exc)
            return False
        self._broker_ok()
        self._ids_to_record[(workload.ti_id, workload.try_number)] = task_id
        return True

    def _record_message_ids(self) -> None:
        """Store the ids of the messages sent since the last call on their tries (one
        UPDATE), for a scheduler that may have to adopt them."""
        if self._ids_to_record:
            ids, self._ids_to_record = self._ids_to_record, {}
            record_external_executor_ids(ids)

    def _send_unsent(self) -> None:
        for task_id, workload in list(self._unsent.items()):
            entry = self._in_flight.get(workload.ti_id)
            if entry is None or entry.try_number != workload.try_number:
                del self._unsent[task_id]  # the try moved on meanwhile
                continue
            del self._unsent[task_id]
            if not self._send(workload, task_id):
                return

    def _broker_failed(self, exc: BaseException) -> None:
        self._retry_delay = min(RETRY_MAX, max(RETRY_MIN, self._retry_delay * 2))
        self._retry_at = time.monotonic() + self._retry_delay
        if not self._broker_down:
            log.error(
                "cannot reach the Celery broker %s (%s): %s; tries wait until it answers "
                "(retrying with a pause of up to %g s)",
                safe_url(self.url),
                self.variable,
                exc,
                RETRY_MAX,
            )
        self._broker_down = True

    def _broker_ok(self) -> None:
        if self._broker_down:
            log.warning("the Celery broker %s answers again", safe_url(self.url))
        self._broker_down = False
        self._retry_delay = 0.0

    # -- results -------------------------------------------------------------------------

    def _subscribe(self) -> None:
        """To every result the backend publishes: the wake-up and, in the message, the result."""
        if self._pubsub is not None or time.monotonic() < self._subscribe_at:
            return
        pubsub = self._results.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.psubscribe(f"{self._key_prefix()}*")
        except (redis.RedisError, OSError):
            pubsub.close()
            self._subscribe_at = time.monotonic() + RETRY_MAX / 10
            return
        self._pubsub = pubsub
        # What was published before the subscription took effect is read once by MGET.
        self._next_poll = 0.0

    def _key_prefix(self) -> str:
        prefix = self.app.backend.task_keyprefix
        return prefix.decode() if isinstance(prefix, bytes) else str(prefix)

    def _read_published(self) -> None:
        """Record the results published since the last tick (the channel is the result's key;
        the data, the stored result). Results of other schedulers' messages are not ours to
        read or delete."""
        if self._pubsub is None:
            return
        prefix = self._key_prefix()
        done: list[Any] = []
        try:
            for _ in range(10_000):
                message = self._pubsub.get_message(timeout=0.0)
                if message is None:
                    break
                channel = message.get("channel")
                if isinstance(channel, bytes):
                    channel = channel.decode("utf-8", "replace")
                if not isinstance(channel, str) or not channel.startswith(prefix):
                    continue
                if self._record(channel[len(prefix) :], message.get("data")):
                    done.append(channel)
        except (redis.RedisError, OSError, ValueError):
            # Redis went away (restarted): results are polled each tick until the subscription
            # is back (after a pause), then once more (see _subscribe).
            self._unsubscribe()
            self._subscribe_at = time.monotonic() + RETRY_MAX / 10
        self._delete_results(done)

    def _unsubscribe(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                self._pubsub.close()
            self._pubsub = None

    def _poll_results(self) -> None:
        """One MGET of the result of every message in flight (those not sent yet have none)."""
        self._next_poll = time.monotonic() + RESULT_POLL_EVERY
        pending = [
            task_id
            for entry in self._in_flight.values()
            for task_id in entry.task_ids
            if task_id not in entry.codes and task_id not in self._unsent
        ]
        if not pending:
            return
        backend = self.app.backend
        keys = [backend.get_key_for_task(task_id) for task_id in pending]
        try:
            values = self._results.mget(keys)
        except redis.RedisError as exc:
            self._broker_failed(exc)
            return
        self._broker_ok()
        done = [
            key
            for task_id, raw, key in zip(pending, values, keys, strict=True)
            if raw is not None and self._record(task_id, raw)
        ]
        self._delete_results(done)

    def _record(self, task_id: str, raw: Any) -> bool:
        """Note the runner's exit code from a stored result of one of our messages in flight;
        False when it is not ours, not in flight or not an end (STARTED, RETRY)."""
        ti_id = task_id.split(".", 1)[0]  # our Celery task ids are <ti id>.<try>.<n>
        entry = self._in_flight.get(ti_id)
        if entry is None or not entry.takes(ti_id, task_id) or task_id in entry.codes:
            return False
        try:
            meta = self.app.backend.decode_result(raw)
        except Exception as exc:  # a result nobody of ours wrote: kept, said, not trusted
            log.warning("try %s: unreadable Celery result for %s: %s", ti_id, task_id, exc)
            return False
        status = meta.get("status") if isinstance(meta, dict) else None
        if status not in {"SUCCESS", "FAILURE", "REVOKED"}:
            return False
        if task_id not in entry.task_ids:
            entry.task_ids.append(task_id)  # an adopted try's message we had no id of
        result = meta.get("result")
        if status == "FAILURE":
            log.warning("try %s: the Celery task failed: %s", ti_id, result)
        entry.codes[task_id] = _run_try_result(ti_id, result) if status == "SUCCESS" else None
        return True

    def _delete_results(self, keys: list[Any]) -> None:
        if keys:
            with contextlib.suppress(redis.RedisError):  # else they expire (result_expires)
                self._results.delete(*keys)

    def _ended_tries(self) -> list[ExecutorEvent]:
        """The tries all of whose messages ended, each once, with its runner's exit code (none
        when no message ran a runner to its end: revoked, or its pool process lost)."""
        events = []
        for ti_id, entry in list(self._in_flight.items()):
            if entry.task_ids and entry.ended():
                del self._in_flight[ti_id]
                end = entry.outcome()
                if end is not None:
                    events.append(
                        ExecutorEvent(
                            ti_id,
                            entry.try_number,
                            end.returncode,
                            reason=end.reason,
                            details=tuple(end.details),
                        )
                    )
        return events

    def _forget_finished_tries(self) -> None:
        """Drop in-flight tries the database no longer has queued or running (their results
        were lost, or a message was sent twice and one copy never came back)."""
        if not self._in_flight:
            return
        from dagruns.models import TaskInstance, TaskInstanceState

        active = set(
            TaskInstance.objects.filter(
                pk__in=list(self._in_flight),
                state__in=(TaskInstanceState.QUEUED, TaskInstanceState.RUNNING),
            ).values_list("pk", "try_number")
        )
        for ti_id, entry in list(self._in_flight.items()):
            if (uuid.UUID(ti_id), entry.try_number) not in active:
                del self._in_flight[ti_id]
                for task_id in entry.task_ids:
                    self._unsent.pop(task_id, None)


def resend_count_key(ti_id: str, try_number: int) -> str:
    return f"{RESEND_COUNT_PREFIX}{ti_id}:{try_number}"
