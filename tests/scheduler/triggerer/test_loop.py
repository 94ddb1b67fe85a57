"""The triggerer's bookkeeping of asset watchers' triggers (scheduler/triggerer/loop.py): one
that ended starts again after RESTART_DELAY; one that keeps failing waits twice as long each
time, up to RESTART_DELAY_MAX; a deferral's trigger is not started again."""

from __future__ import annotations

from scheduler.triggerer import loop
from scheduler.triggerer.loop import RESTART_DELAY, RESTART_DELAY_MAX, Triggerer


def test_a_watcher_trigger_that_keeps_failing_rests_longer_each_time(monkeypatch):
    monkeypatch.setattr(loop.time, "monotonic", lambda: 100.0)
    triggerer = Triggerer(capacity=10)
    waits = []
    for failed in (True, True, True, False, True):
        triggerer.active.add(5)
        triggerer.watching.add(5)
        triggerer._stopped(5, rest=True, failed=failed)
        assert 5 not in triggerer.active and 5 not in triggerer.watching
        waits.append(triggerer.resting[5] - 100.0)
    # Ending normally (after its events) resets the count.
    assert waits == [
        RESTART_DELAY,
        2 * RESTART_DELAY,
        4 * RESTART_DELAY,
        RESTART_DELAY,
        RESTART_DELAY,
    ]
    for _ in range(12):
        triggerer._stopped(5, rest=True, failed=True)
    assert triggerer.resting[5] - 100.0 == RESTART_DELAY_MAX
    triggerer._stopped(6, rest=False)
    assert 6 not in triggerer.resting
