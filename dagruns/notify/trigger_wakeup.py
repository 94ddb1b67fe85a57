"""Waking triggerers the moment a task defers (or a deferral is dropped), instead of waiting
for their next poll: the bus's "triggers" topic, like the schedulers' "wake" topic
(dagruns/notify/wakeup.py), on whichever transport the deployment has."""

from __future__ import annotations

from dagruns.notify import bus

TOPIC = "triggers"
WAKE = b"t"


def wake_triggerers() -> None:
    """Nudge every triggerer, on every host the bus reaches. Never raises."""
    bus.publish(TOPIC, WAKE)


class TriggererWakeReceiver(bus.Listener):
    """A triggerer's end: `fileno()` becomes readable when someone called wake_triggerers()."""

    def __init__(self) -> None:
        super().__init__(TOPIC, resync=WAKE)

    def drain(self) -> int:
        return len(self.receive_all())
