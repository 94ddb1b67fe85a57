"""The beat lock against a real (private) Redis: one holder at a time, claims only by the
holder, the lease passes on when its holder stops renewing, and a clean stop gives it up."""

from __future__ import annotations

import pytest

from scheduler.housekeeping.lock import BeatLock
from tests.brokers import redis_server  # noqa: F401
from tests.polling import wait_until


@pytest.fixture
def pair(redis_server):  # noqa: F811
    return (
        BeatLock(redis_server.url, timeout=0.5, owner="a"),
        BeatLock(redis_server.url, timeout=0.5, owner="b"),
    )


def test_one_holder_at_a_time_and_only_the_holder_claims(pair):
    a, b = pair
    assert a.hold() and not b.hold()
    assert a.holder() == "a"
    assert a.claim("retention", 100.0) == 1
    assert b.claim("retention", 101.0) is None
    assert a.claim("backstop_sweep", 102.0) == 2
    assert b.last_runs() == {"retention": 100.0, "backstop_sweep": 102.0}


def test_a_lease_nobody_renews_passes_to_the_standby(pair):
    a, b = pair
    assert a.hold()
    # a stops renewing (it died): b gets the lease once it expires, and a's claims stop.
    wait_until(b.hold, "the standby taking the expired lease", timeout=30, interval=0.1)
    assert not a.hold()
    assert a.claim("retention", 1.0) is None
    assert b.claim("retention", 2.0) == 1


def test_a_clean_stop_gives_the_lease_up_at_once(pair):
    a, b = pair
    a.timeout = b.timeout = 300.0
    assert a.hold()
    b.release()  # not b's to give
    assert not b.hold()
    a.release()
    assert b.hold() and b.holder() == "b"
