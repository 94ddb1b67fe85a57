"""Change events for open pages: "this changed", sent only after the change committed.

Every state change of a task instance, a DAG run or a DAG — whichever process made it (the API
server, a scheduler, a CLI command in another shell) — calls `notify()`. After the transaction
commits the event is published:
- with ORCH_REDIS_URL set, to the Channels layer (channels-redis) groups the pages listen to;
- otherwise on the bus's "events" topic (dagruns/notify/bus.py: PostgreSQL NOTIFY to every
  API-server process of the deployment, on any host; a datagram on the local bus to those of
  this host on the embedded default), whose listener in each API-server process re-publishes
  it into that process's (in-memory) channel layer.

Events are small JSON objects: {"kind": "ti" | "run" | "dag" | "log", "dag_id", "run_id",
"task_id", "try_number"}; pages re-fetch what they show (the server renders HTML), so an event
never carries data a viewer could not see anyway.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from dagruns.notify import bus

log = logging.getLogger(__name__)
TOPIC = "events"
ALL_DAGS_GROUP = "dags"


def dag_group(dag_id: str) -> str:
    """A Channels group name for one DAG's pages (group names allow only ASCII letters,
    digits, -_. and < 100 characters; dag ids may be longer, so hash them)."""
    return "dag-" + hashlib.sha1(dag_id.encode()).hexdigest()[:20]


def groups_for(event: dict[str, Any]) -> list[str]:
    groups = [ALL_DAGS_GROUP]
    if event.get("dag_id"):
        groups.append(dag_group(event["dag_id"]))
    return groups


def notify(
    kind: str, *, dag_id: str, run_id: str = "", task_id: str = "", try_number: int | None = None
) -> None:
    """Publish a change event once the current transaction commits (at once outside one)."""
    event = {
        "kind": kind,
        "dag_id": dag_id,
        "run_id": run_id,
        "task_id": task_id,
        "try_number": try_number,
    }
    transaction.on_commit(lambda: publish(event))


def publish(event: dict[str, Any]) -> None:
    """Send now. Never raises: a missed event only delays a page until its next refresh."""
    try:
        if settings.REDIS_URL:
            _publish_to_channel_layer(event)
        else:
            bus.publish(TOPIC, json.dumps(event).encode())
    except Exception:  # events are best effort by design
        log.warning("could not publish event %s", event, exc_info=True)


def _publish_to_channel_layer(event: dict[str, Any]) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    for group in groups_for(event):
        async_to_sync(layer.group_send)(group, {"type": "orch.event", "event": event})
