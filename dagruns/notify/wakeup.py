"""Waking schedulers the moment something they care about happens (a task finished, a run was
triggered) instead of waiting for their next poll: a datagram on the local bus's "wake" topic
(see dagruns/notify/localbus.py). It costs microseconds and needs no server."""

from __future__ import annotations

from dagruns.notify.localbus import Listener, send

TOPIC = "wake"


def wake_schedulers() -> int:
    """Nudge every scheduler on this host; returns how many were reached. Never raises."""
    return send(TOPIC, b"w")


class WakeReceiver(Listener):
    """A scheduler's end: `fileno()` becomes readable when someone called wake_schedulers()."""

    def __init__(self) -> None:
        super().__init__(TOPIC)

    def drain(self) -> int:
        return len(self.receive_all())
