"""Schedulers are woken after a state change commits, never before."""

from __future__ import annotations

import select

import pytest

from dagruns.actions import tries
from dagruns.notify.wakeup import WakeReceiver
from tests.builders import make_run, queue, ti_of
from tests.dagruns.api.conftest import Runner

pytestmark = pytest.mark.usefixtures("isolated_orch_dirs")


@pytest.mark.django_db
def test_claim_and_finish_wake_the_schedulers_after_commit(
    runner, monkeypatch, django_capture_on_commit_callbacks
):
    woken = []
    monkeypatch.setattr(tries, "wake_schedulers", lambda: woken.append(1) or 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        runner.run()
        runner.heartbeat()
        runner.finish("success")
    assert woken == []  # nothing committed yet
    # The claim and the finish (not the heartbeat) each leave a wake-up and a page event.
    assert len(callbacks) == 4
    for callback in callbacks:
        callback()
    assert woken == [1, 1]


@pytest.mark.django_db
def test_a_refused_call_wakes_nobody(runner, monkeypatch, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert runner.finish("success").status_code == 409
    assert callbacks == []


@pytest.mark.django_db(transaction=True)
def test_a_finished_try_reaches_a_real_scheduler_wake_socket():
    run = make_run()
    runner = Runner(queue(ti_of(run, "extract")))
    receiver = WakeReceiver()

    def woken() -> int:
        # On PostgreSQL the wake-up is a NOTIFY relayed by a thread: it arrives a moment later.
        select.select([receiver], [], [], 30)
        return receiver.drain()

    try:
        assert runner.run().status_code == 200
        assert woken() == 1  # the claim's
        assert runner.finish("success").status_code == 200
        assert woken() == 1
    finally:
        receiver.close()
