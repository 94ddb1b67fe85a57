"""The trigger runner: an asyncio loop that runs triggers, with no database anywhere near.

Started by the triggerer (`runner.py`) as `python -m scheduler.triggerer.child`, with an
environment stripped of database settings and secrets. Reads StartTrigger/CancelTrigger/
RefreshToken lines on stdin, writes TriggerFired/TriggerFailed lines on stdout, logs on stderr (the triggerer's
log). Ends when stdin closes: the triggerer stopped or died, and its triggers will run
elsewhere.

Trigger code shares this loop: one that blocks it stalls every trigger here, so a watchdog
measures the loop's lateness and logs Airflow's warning when it was blocked. What a trigger logs
(while its `run()` or `cleanup()` runs: a context variable tells whose it is) goes to the
triggerer as TriggerLogs, for its task's log, as well as to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import importlib
import logging
import os
import sys
import time
import traceback
from typing import Any

from dagruns.sdk import airflow_compat
from dagruns.sdk.masking import SecretsMasker
from dagruns.sdk.triggers import BaseTrigger
from dagruns.sdk.triggers import states as trigger_states
from dagruns.sdk.triggers.serde import decode_kwargs, encode
from scheduler.triggerer.messages import (
    TO_RUNNER,
    CancelTrigger,
    RefreshToken,
    StartTrigger,
    TriggerEnded,
    TriggerFailed,
    TriggerFired,
    TriggerLogs,
    frame,
)
from scheduler.triggerer.states_reader import TriggerStatesReader

log = logging.getLogger("airflow.triggerer")

# Airflow's block watchdog: wake every 0.1 s; later than 0.2 s means something blocked the loop.
WATCHDOG_TICK = 0.1
BLOCKED_AFTER = 0.2
LOG_FORMAT = "[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s"

# The trigger whose code is running (each trigger's asyncio task has its own context).
current_trigger: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_trigger", default=None
)


def send(message: TriggerFired | TriggerFailed | TriggerEnded | TriggerLogs) -> None:
    # A short line on a pipe the parent drains continuously: the write does not block.
    os.write(1, frame(message))


# Per running trigger: its kwargs under sensitive names ("password", "token" ...), masked in
# what it logs (the triggerer masks the stored secrets too).
maskers: dict[int, SecretsMasker] = {}


class TriggerLogHandler(logging.Handler):
    """Sends each record logged inside a trigger to the triggerer, for the task's log."""

    def emit(self, record: logging.LogRecord) -> None:
        trigger_id = current_trigger.get()
        if trigger_id is None:
            return
        try:
            line = "[triggerer] " + self.format(record)
            masker = maskers.get(trigger_id)
            if masker is not None:
                line = masker.mask(line)
            send(TriggerLogs(trigger_id=trigger_id, lines=line.splitlines()))
        except Exception:
            self.handleError(record)


class TriggerRunner:
    """Runs each started trigger as an asyncio task until its first event or a cancel."""

    def __init__(self, reader: TriggerStatesReader | None = None) -> None:
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.reader = reader

    def send(self, message: TriggerFired | TriggerFailed | TriggerEnded) -> None:
        send(message)

    def handle(self, message: StartTrigger | CancelTrigger | RefreshToken) -> None:
        trigger_id = message.trigger_id
        if isinstance(message, RefreshToken):
            if self.reader is not None and trigger_id in self.tasks:
                self.reader.set_token(trigger_id, message.api_token)
        elif isinstance(message, StartTrigger):
            if trigger_id not in self.tasks:
                if self.reader is not None:
                    self.reader.set_token(trigger_id, message.api_token)
                self.tasks[trigger_id] = asyncio.create_task(self.run_trigger(message))
                self.tasks[trigger_id].add_done_callback(self._forget(trigger_id))
        elif (running := self.tasks.get(trigger_id)) is not None:
            running.cancel()

    def _forget(self, trigger_id: int) -> Any:
        def forget(_task: asyncio.Task[None]) -> None:
            self.tasks.pop(trigger_id, None)

        return forget

    async def run_trigger(self, message: StartTrigger) -> None:
        try:
            await self._run_trigger(message)
        finally:
            maskers.pop(message.trigger_id, None)
            if self.reader is not None:
                self.reader.forget(message.trigger_id)

    async def _run_trigger(self, message: StartTrigger) -> None:
        trigger_id = message.trigger_id
        current_trigger.set(trigger_id)  # this task's own context: only its records
        try:
            masker = maskers[trigger_id] = SecretsMasker()
            masker.add_sensitive(decode_kwargs(message.kwargs))
            trigger = build_trigger(message.classpath, message.kwargs)
        except Exception:
            lines = [f"Could not load trigger {message.classpath!r} (trigger {trigger_id}):"]
            self.send(TriggerFailed(trigger_id=trigger_id, traceback=lines + _traceback()))
            return
        trigger.trigger_id = trigger_id
        events: Any = None
        fired = 0
        try:
            events = trigger.run()
            where = f"the event of trigger {message.classpath}"
            async for event in events:
                self.send(TriggerFired(trigger_id=trigger_id, payload=encode(event.payload, where)))
                fired += 1
                if not message.watcher:
                    break  # only the first event counts: the task resumes with it (Airflow's rule)
            if not fired:
                ended = f"Trigger {message.classpath} exited without sending an event"
                self.send(TriggerFailed(trigger_id=trigger_id, traceback=[ended]))
            elif message.watcher:
                self.send(TriggerEnded(trigger_id=trigger_id))
        except asyncio.CancelledError:
            raise
        except Exception:
            lines = [f"Trigger {message.classpath} (trigger {trigger_id}) failed:"]
            self.send(TriggerFailed(trigger_id=trigger_id, traceback=lines + _traceback()))
        finally:
            # Close the generator here, in this task, rather than leave it to the garbage
            # collector (its `finally` blocks run now, with the loop still running).
            with contextlib.suppress(Exception):
                if events is not None:
                    await events.aclose()
            try:
                await trigger.cleanup()
            except Exception:
                log.exception("cleanup of trigger %s (%s) failed", trigger_id, message.classpath)

    def cancel_all(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()


def build_trigger(classpath: str, kwargs: dict[str, Any]) -> BaseTrigger:
    """`classpath(**kwargs)`, imported as Airflow's triggerer does (airflow.* paths resolve to
    our SDK); errors name the class path."""
    module_name, _, class_name = classpath.rpartition(".")
    if not module_name:
        raise ImportError(f"{classpath!r} is not a dotted path to a trigger class")
    module = importlib.import_module(module_name)
    try:
        cls = getattr(module, class_name)
    except AttributeError:
        raise ImportError(f"module {module_name!r} has no trigger class {class_name!r}") from None
    if not (isinstance(cls, type) and issubclass(cls, BaseTrigger)):
        raise TypeError(f"{classpath} is not a BaseTrigger subclass")
    return cls(**decode_kwargs(kwargs))


def _traceback() -> list[str]:
    return traceback.format_exc().rstrip().splitlines()


async def block_watchdog() -> None:
    """Log when the loop was late by more than BLOCKED_AFTER: a trigger blocked it."""
    while True:
        started = time.monotonic()
        await asyncio.sleep(WATCHDOG_TICK)
        elapsed = time.monotonic() - started
        if elapsed > BLOCKED_AFTER:
            log.warning(
                "Triggerer's async thread was blocked for %.2f seconds, likely by a badly-written "
                "trigger. Set PYTHONASYNCIODEBUG=1 to get more information on overrunning "
                "coroutines.",
                elapsed,
            )


async def serve(api_url: str = "") -> None:
    states_reader = TriggerStatesReader(api_url, current_trigger)
    trigger_states.install(states_reader)
    runner = TriggerRunner(states_reader)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    watchdog = asyncio.create_task(block_watchdog())
    try:
        while line := await reader.readline():
            runner.handle(TO_RUNNER.validate_json(line))
    finally:
        watchdog.cancel()
        runner.cancel_all()
        pending = [*runner.tasks.values(), watchdog]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), 5.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="scheduler.triggerer.child")
    parser.add_argument("--dags-folder", default="")
    parser.add_argument("--plugins-folder", default="")
    # Where triggers read other DAGs' states (the Execution API), with their own tokens.
    parser.add_argument("--api-url", default="")
    args = parser.parse_args(argv)
    # Trigger classes may live next to the DAGs or in plugins, as in Airflow.
    for folder in (args.dags_folder, args.plugins_folder):
        if folder and folder not in sys.path:
            sys.path.append(folder)
    airflow_compat.install()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=LOG_FORMAT)
    to_task_log = TriggerLogHandler()
    to_task_log.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger().addHandler(to_task_log)
    asyncio.run(serve(args.api_url))


if __name__ == "__main__":
    main()
