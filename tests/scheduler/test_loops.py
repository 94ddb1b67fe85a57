"""The tick-loop base (scheduler/loops.py): sleeps only when idle, wakes on its handles, stops
on stop() or SIGTERM even mid-sleep, and records its Job row."""

from __future__ import annotations

import os
import signal
import socket
import threading
from dataclasses import dataclass

import pytest

from dagruns.models import Job
from scheduler.loops import TickLoop
from tests.polling import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Counted:
    work: int


class CountingLoop(TickLoop[Counted]):
    """Does `busy` ticks of work, then idles with a one-hour timeout: anything that ends its
    wait sooner is a wake-up or a stop."""

    job_type = "test_loop"

    def __init__(self, busy: int = 0, on_tick=None) -> None:
        super().__init__()
        self.busy = busy
        self.ticks = 0
        self.on_tick = on_tick
        self.wake_r, self.wake_w = socket.socketpair()

    def run_once(self) -> Counted:
        self.ticks += 1
        if self.on_tick:
            self.on_tick(self)
        if self._readable():
            self.wake_r.recv(64)  # consume the wake-up, as the scheduler drains its receiver
        return Counted(work=1 if self.ticks <= self.busy else 0)

    def _readable(self) -> bool:
        import select

        return bool(select.select([self.wake_r], [], [], 0)[0])

    def wake_handles(self):
        return [self.wake_r]

    def idle_timeout(self) -> float:
        return 3600.0


def run_in_thread(loop: TickLoop, **kwargs) -> threading.Thread:
    thread = threading.Thread(target=loop.run_until, args=(lambda _r: False,), kwargs=kwargs)
    thread.start()
    return thread


def test_busy_ticks_follow_each_other_and_an_idle_loop_sleeps():
    loop = CountingLoop(busy=5)
    thread = run_in_thread(loop)
    wait_until(lambda: loop.ticks >= 6, "the busy ticks and the first idle one")
    ticks = loop.ticks
    loop.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert ticks == 6, "idle after the sixth tick: it slept instead of ticking again"


def test_a_wake_up_ends_the_idle_wait():
    loop = CountingLoop()
    thread = run_in_thread(loop)
    wait_until(lambda: loop.ticks == 1, "the first tick")
    loop.wake_w.send(b"w")
    wait_until(lambda: loop.ticks == 2, "the tick a wake-up causes")
    loop.stop()
    thread.join(30)
    assert not thread.is_alive()


def test_stop_ends_an_idle_wait_at_once():
    loop = CountingLoop()
    thread = run_in_thread(loop)
    wait_until(lambda: loop.ticks == 1, "the first tick")
    loop.stop()
    thread.join(30)  # the loop's own timeout is an hour
    assert not thread.is_alive() and loop.ticks == 1


def test_sigterm_stops_run_forever_cleanly_and_ends_its_job_row():
    def signal_on_third_tick(loop: CountingLoop) -> None:
        if loop.ticks == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    loop = CountingLoop(busy=100, on_tick=signal_on_third_tick)
    loop.run_forever()
    assert loop.ticks == 3
    assert signal.getsignal(signal.SIGTERM) is before, "its handlers are put back"
    job = Job.objects.get(job_type="test_loop")
    assert job.state == "success" and job.end_date is not None


def test_a_failing_tick_ends_the_job_row_failed():
    def explode(_loop) -> None:
        raise RuntimeError("boom")

    loop = CountingLoop(on_tick=explode)
    with pytest.raises(RuntimeError):
        loop.run_until(lambda _r: False, job_type="test_loop")
    assert Job.objects.get(job_type="test_loop").state == "failed"


def test_run_until_returns_true_when_done_and_false_on_timeout():
    assert CountingLoop(busy=3).run_until(lambda r: r.work == 0) is True
    assert CountingLoop(busy=10**9).run_until(lambda _r: False, timeout=0.0) is False
