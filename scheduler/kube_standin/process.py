"""The stand-in as its own process (`python -m scheduler.kube_standin`), for tests and
benchmarks whose scheduler, workers or the stand-in itself must outlive one another: the
benchmark measures it as one more process tree (its pods are its children)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

# The directory holding the `scheduler` package (the repository, or site-packages): the
# child imports the same code as its parent.
IMPORT_ROOT = Path(__file__).resolve().parents[2]


class StandInError(RuntimeError):
    """The stand-in process did not start, or refused a fault."""


class StandInProcess:
    """Start with `start()` (returns self once the kubeconfig exists), inject faults with
    `inject("oom-kill", name=...)` (the names of `ApiServer.inject`), `stop()` at the end."""

    def __init__(self, directory: Path, port: int = 0, env: dict[str, str] | None = None) -> None:
        """`env`: the stand-in's environment, which its pods inherit (default: this one's)."""
        self.directory = Path(directory)
        self.port = port
        self.env = dict(os.environ if env is None else env)
        self.kubeconfig = self.directory / "kubeconfig"
        self.log_path = self.directory / "standin.log"
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> StandInProcess:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.kubeconfig.unlink(missing_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "scheduler.kube_standin",
                    "--port", str(self.port), "--kubeconfig", str(self.kubeconfig),
                ],
                cwd=IMPORT_ROOT,
                env={
                    **self.env,
                    "PYTHONPATH": os.pathsep.join(
                        filter(None, [str(IMPORT_ROOT), self.env.get("PYTHONPATH")])
                    ),
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: stopping it never signals the caller's.
                start_new_session=True,
            )  # fmt: skip
        self._wait_ready(timeout)
        config = yaml.safe_load(self.kubeconfig.read_text())
        self.url = config["clusters"][0]["cluster"]["server"]
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def _wait_ready(self, timeout: float) -> None:
        """Until the kubeconfig exists (written once the port listens), the process exits
        (an error quoting its log), or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while not self.kubeconfig.exists():
            assert self.process is not None
            if self.process.poll() is not None:
                raise StandInError(
                    f"the kube stand-in exited with {self.process.returncode}:\n"
                    + self.log_path.read_text(errors="replace")[-4000:]
                )
            if time.monotonic() > deadline:
                self.stop()
                raise StandInError(
                    f"the kube stand-in wrote no kubeconfig within {timeout:g} s "
                    f"(see {self.log_path})"
                )
            time.sleep(0.02)

    @property
    def pid(self) -> int:
        assert self.process is not None, "the stand-in is not started"
        return self.process.pid

    def inject(self, fault: str, **args: Any) -> Any:
        request = urllib.request.Request(
            f"{self.url}/_standin/{fault}",
            data=json.dumps(args).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise StandInError(
                f"fault {fault} refused: {exc.read().decode(errors='replace')}"
            ) from None

    def stop(self) -> int | None:
        """SIGTERM (the stand-in kills its pods), then wait; returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
        finally:
            self.process = None
