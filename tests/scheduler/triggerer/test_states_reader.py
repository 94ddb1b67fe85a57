"""The trigger runner's states reader: each trigger reads with its own token (renewed in
place), and a trigger without one — not a deferred task's — is refused naming why."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from dagruns.sdk.exceptions import AirflowException
from scheduler.triggerer.states_reader import TriggerStatesReader


def reader_for(trigger_id: int | None) -> tuple[TriggerStatesReader, contextvars.Context]:
    current: contextvars.ContextVar[int | None] = contextvars.ContextVar("t", default=None)
    context = contextvars.copy_context()
    context.run(current.set, trigger_id)
    return TriggerStatesReader("http://127.0.0.1:9", current), context


def read(reader: TriggerStatesReader, context: contextvars.Context):
    return context.run(asyncio.run, reader.read("dag-runs/count", {"dag_id": "d"}))


def test_a_trigger_without_a_token_is_refused_naming_why():
    reader, context = reader_for(7)
    with pytest.raises(AirflowException, match="trigger 7 has no Execution API token"):
        read(reader, context)
    reader, context = reader_for(None)
    with pytest.raises(AirflowException, match="outside a running trigger"):
        read(reader, context)


def test_a_renewed_token_replaces_the_one_its_client_sends_and_is_forgotten_after():
    reader, _ = reader_for(7)
    reader.set_token(7, "first")
    client = reader._client(7)
    assert client.token == "first"
    reader.set_token(7, "second")
    assert client.token == "second" and reader._client(7) is client
    reader.forget(7)
    assert 7 not in reader.tokens and 7 not in reader.clients
