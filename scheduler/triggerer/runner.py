"""The triggerer's end of its trigger runner child (`child.py`): start it, send it triggers
to start or cancel, read what it reports, restart it if it dies.

The child's environment keeps nothing that leads to the database or decrypts a secret
(no DJANGO_SETTINGS_MODULE, no ORCH_DATABASE_URL, ORCH_SECRET_KEY or ORCH_FERNET_KEY): what a
trigger needs comes in its kwargs, already decrypted by the triggerer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scheduler.triggerer.messages import (
    FROM_RUNNER,
    CancelTrigger,
    RefreshToken,
    StartTrigger,
    TriggerEnded,
    TriggerFailed,
    TriggerFired,
    TriggerLogs,
    frame,
)

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
# What the child must not inherit: the way to the database and the keys to its secrets.
WITHHELD_ENV = ("DJANGO_SETTINGS_MODULE", "ORCH_DATABASE_URL", "ORCH_SECRET_KEY", "ORCH_FERNET_KEY")
READ_SIZE = 256 * 1024


def child_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if environ is None else environ)
    for name in WITHHELD_ENV:
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


class TriggerRunnerProcess:
    """One child process; `start()` again after it died starts a fresh one."""

    def __init__(self, dags_folder: str = "", plugins_folder: str = "", api_url: str = "") -> None:
        self.argv = [
            sys.executable, "-m", "scheduler.triggerer.child",
            "--dags-folder", dags_folder, "--plugins-folder", plugins_folder,
            "--api-url", api_url,
        ]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""

    def start(self) -> None:
        self._buffer = b""
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_environment(),
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def fileno(self) -> int:
        """Readable when the child reported something (or died): the loop waits on it."""
        assert self.proc is not None and self.proc.stdout is not None
        return self.proc.stdout.fileno()

    def send(self, message: StartTrigger | CancelTrigger | RefreshToken) -> bool:
        """False when the child is gone (it is restarted by the next tick)."""
        if self.proc is None or self.proc.stdin is None:
            return False
        try:
            self.proc.stdin.write(frame(message))
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            return False
        return True

    def start_trigger(
        self,
        trigger_id: int,
        classpath: str,
        kwargs: dict[str, Any],
        api_token: str | None = None,
        *,
        watcher: bool = False,
    ) -> bool:
        return self.send(
            StartTrigger(
                trigger_id=trigger_id,
                classpath=classpath,
                kwargs=kwargs,
                api_token=api_token,
                watcher=watcher,
            )
        )

    def refresh_token(self, trigger_id: int, api_token: str) -> bool:
        return self.send(RefreshToken(trigger_id=trigger_id, api_token=api_token))

    def cancel_trigger(self, trigger_id: int) -> bool:
        return self.send(CancelTrigger(trigger_id=trigger_id))

    def read(self) -> list[TriggerFired | TriggerFailed | TriggerEnded | TriggerLogs]:
        """Every complete message the child wrote since the last call (never blocks)."""
        if self.proc is None or self.proc.stdout is None:
            return []
        while True:
            try:
                chunk = os.read(self.proc.stdout.fileno(), READ_SIZE)
            except BlockingIOError:
                break
            except OSError:
                break
            if not chunk:
                break
            self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        messages = []
        for line in lines:
            if not line.strip():
                continue
            try:
                messages.append(FROM_RUNNER.validate_json(line))
            except ValidationError as exc:
                log.error("the trigger runner sent an invalid message %r: %s", line[:200], exc)
        return messages

    def stop(self, timeout: float = 10.0) -> None:
        """Close its stdin (it cancels its triggers and exits), kill it if it lingers."""
        proc = self.proc
        if proc is None:
            return
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin is not None:
                proc.stdin.close()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self.proc = None
