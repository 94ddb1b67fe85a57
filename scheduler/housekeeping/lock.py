"""One beat sends at a time: a lease in Redis (the broker), and a Celery beat scheduler that
sends only while it holds it.

The lease is a key set with NX and a time to live (`--lock-timeout`), renewed on every tick
(at most every third of its life). A beat that dies holding it — SIGKILL, a lost host — stops
renewing, the key expires, and a standby beat takes it on its next tick. A beat that froze past
its lease finds it taken when it wakes and stands by.

The last-run time of each job lives in Redis too, and only the holder may write it: a job is
claimed (its last run recorded) by one atomic script that first checks the lease is still
ours, and sent only when the claim succeeded. So two beats never send the same period twice,
and a beat taking over continues the schedule where the dead one left it instead of starting
every job afresh. Each claim takes the next number of a counter, carried in the message, so the
log says which send a run was.

If Redis forgets everything (a restart; these machines keep nothing on disk), the first beat to
tick takes the lease and runs each job once at once: one extra run, never two beats.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from celery.beat import Scheduler

from scheduler.housekeeping import TASK_NAME

log = logging.getLogger(__name__)

KEY_PREFIX = "orchestrator:beat:"

_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
if not holder then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 2
end
return 0
"""
_CLAIM = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return false
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return redis.call('INCR', KEYS[3])
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class BeatLock:
    """The lease and the shared last-run record, in the Redis at `url`."""

    def __init__(self, url: str, timeout: float, owner: str | None = None) -> None:
        self.client = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, decode_responses=True
        )
        self.timeout = timeout
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_key = KEY_PREFIX + "lock"
        self.last_run_key = KEY_PREFIX + "last_run"
        self.claims_key = KEY_PREFIX + "claims"
        self._hold = self.client.register_script(_HOLD)
        self._claim = self.client.register_script(_CLAIM)
        self._release = self.client.register_script(_RELEASE)

    @property
    def renew_every(self) -> float:
        return self.timeout / 3

    def hold(self) -> bool:
        """Take the lease or renew ours; False while another beat holds it."""
        return bool(self._hold(keys=[self.lease_key], args=[self.owner, self._ttl_ms()]))

    def holder(self) -> str:
        return str(self.client.get(self.lease_key) or "nobody")

    def claim(self, job: str, at: float) -> int | None:
        """Record `job` as run at `at` (epoch seconds) and return the claim's number, or None
        when the lease is no longer ours (then nothing was recorded and nothing may be sent)."""
        number = self._claim(
            keys=[self.lease_key, self.last_run_key, self.claims_key],
            args=[self.owner, job, repr(at)],
        )
        return int(number) if number is not None else None

    def last_runs(self) -> dict[str, float]:
        stored: dict[str, str] = self.client.hgetall(self.last_run_key)  # type: ignore[assignment]
        return {name: float(value) for name, value in stored.items()}

    def release(self) -> None:
        """Give the lease up (a clean stop), so a standby need not wait for it to expire."""
        self._release(keys=[self.lease_key], args=[self.owner])

    def _ttl_ms(self) -> int:
        return max(1, int(self.timeout * 1000))


class LeasedScheduler(Scheduler):
    """Celery's in-memory beat scheduler, sending only while this beat holds the lease.

    Celery's `celery.backend_cleanup` default entry is left out (no result backend here), and
    nothing is written to a local schedule file: the last runs live in Redis."""

    def __init__(self, *args: Any, lock: BeatLock, **kwargs: Any) -> None:
        self.lock = lock
        self.leading = False
        self._redis_down = False
        self._told_standby = False
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        self.merge_inplace(self.app.conf.beat_schedule)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self._hold():
            return min(self.max_interval, self.lock.renew_every)
        return min(super().tick(*args, **kwargs), self.lock.renew_every)

    def _hold(self) -> bool:
        try:
            held = self.lock.hold()
        except redis.RedisError as exc:
            if not self._redis_down:
                log.warning(
                    "beat: cannot reach Redis for the housekeeping lock (%s); sending nothing "
                    "until it answers",
                    exc,
                )
            self._redis_down = True
            self.leading = False
            return False
        if self._redis_down:
            log.info("beat: Redis answers again")
            self._redis_down = False
        if not held:
            if self.leading or not self._told_standby:
                log.info(
                    "beat: another beat (%s) holds the housekeeping lock; standing by",
                    self._holder(),
                )
                self._told_standby = True
            self.leading = False
            return False
        if not self.leading:
            log.info(
                "beat: this beat (%s) holds the housekeeping lock and sends the schedule",
                self.lock.owner,
            )
            self.leading = True
            self._told_standby = False
            self._continue_schedule()
        return True

    def _holder(self) -> str:
        try:
            return self.lock.holder()
        except redis.RedisError:
            return "unknown"

    def _continue_schedule(self) -> None:
        """Take each job's last run from Redis (a job that never ran is due at once)."""
        last = self.lock.last_runs()
        now = datetime.now(UTC)
        for name, entry in self.schedule.items():
            if name in last:
                entry.last_run_at = datetime.fromtimestamp(last[name], UTC)
            else:
                entry.last_run_at = now - _period(entry)
        self._heap = None  # re-sorted on this tick with the new times

    def apply_entry(self, entry: Any, producer: Any = None) -> None:
        # The run's time is the one the scheduler just recorded locally (tick's reserve, after
        # is_due found the period over): the same moment in Redis and here, so the next send,
        # from whichever beat, is at least one period after this one.
        reserved = self.schedule[entry.name].last_run_at
        at = reserved.timestamp() if reserved is not None else time.time()
        try:
            number = self.lock.claim(entry.name, at)
        except redis.RedisError as exc:
            log.warning("beat: %s not sent: cannot record it in Redis (%s)", entry.name, exc)
            return
        if number is None:
            log.warning("beat: %s not sent: the housekeeping lock was lost", entry.name)
            self.leading = False
            return
        try:
            self.app.send_task(
                TASK_NAME,
                args=entry.args,
                kwargs={"claim": number, "sent_at": at},
                producer=producer,
                **entry.options,
            )
        except Exception:
            log.exception("beat: could not send %s (claim #%d)", entry.name, number)
        else:
            log.info("beat: sent %s (claim #%d)", entry.name, number)

    def close(self) -> None:
        super().close()
        if self.leading:
            with contextlib.suppress(redis.RedisError):  # else it expires on its own
                self.lock.release()
            self.leading = False


def _period(entry: Any) -> timedelta:
    run_every = getattr(entry.schedule, "run_every", None)
    return run_every if isinstance(run_every, timedelta) else timedelta(0)
