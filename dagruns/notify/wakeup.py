"""Waking schedulers the moment something they care about happens (a task finished, a run was
triggered) instead of waiting for their next poll: a message on the bus's "wake" topic
(dagruns/notify/bus.py) — a datagram on the local bus on one host, Redis pub/sub or PostgreSQL
NOTIFY across hosts. On the local bus it costs microseconds, across hosts one round trip."""

from __future__ import annotations

from dagruns.notify import bus

TOPIC = "wake"
WAKE = b"w"


def wake_schedulers() -> None:
    """Nudge every scheduler, on every host the bus reaches. Never raises."""
    bus.publish(TOPIC, WAKE)


class WakeReceiver(bus.Listener):
    """A scheduler's end: `fileno()` becomes readable when someone called wake_schedulers()."""

    def __init__(self) -> None:
        # After a lost connection, one wake-up stands in for those published meanwhile.
        super().__init__(TOPIC, resync=WAKE)

    def drain(self) -> int:
        return len(self.receive_all())
