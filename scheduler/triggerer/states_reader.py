"""The trigger runner's answer to triggers asking for other DAGs' states (WorkflowTrigger,
DagStateTrigger: dagruns/sdk/triggers/states.py): Execution API calls over HTTP, each with the
read-only token the triggerer issued for that trigger's deferred try.

Django-free, like the rest of the trigger runner child. Each trigger gets its own client (one
keep-alive connection, used by one call at a time since a trigger awaits its calls in turn);
the blocking HTTP call runs in a worker thread so the event loop, shared by every trigger,
never waits on the network.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from dagruns.sdk.exceptions import AirflowException
from scheduler.runner.client import ExecutionApiError, ExecutionClient


class TriggerStatesReader:
    """Installed into dagruns.sdk.triggers.states by the child; `current` tells whose call."""

    def __init__(self, api_url: str, current: contextvars.ContextVar[int | None]) -> None:
        self.api_url = api_url
        self.current = current
        self.tokens: dict[int, str] = {}
        self.clients: dict[int, ExecutionClient] = {}

    def set_token(self, trigger_id: int, token: str | None) -> None:
        if token is None:
            return
        self.tokens[trigger_id] = token
        client = self.clients.get(trigger_id)
        if client is not None:
            client.token = token

    def forget(self, trigger_id: int) -> None:
        self.tokens.pop(trigger_id, None)
        client = self.clients.pop(trigger_id, None)
        if client is not None:
            client.close()

    def _client(self, trigger_id: int) -> ExecutionClient:
        client = self.clients.get(trigger_id)
        if client is None:
            token = self.tokens.get(trigger_id)
            if token is None or not self.api_url:
                raise AirflowException(
                    f"trigger {trigger_id} has no Execution API token: it is not the trigger of "
                    "a deferred task, so it cannot read other DAGs' states"
                )
            client = self.clients[trigger_id] = ExecutionClient(self.api_url, token)
        return client

    async def read(self, path: str, query: dict[str, Any]) -> Any:
        trigger_id = self.current.get()
        if trigger_id is None:
            raise AirflowException(f"reading {path} outside a running trigger")
        client = self._client(trigger_id)
        try:
            return await asyncio.to_thread(client.external_state, path, query)
        except ExecutionApiError as exc:
            raise AirflowException(f"Could not read other DAGs' states ({path}): {exc}") from None
