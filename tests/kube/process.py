"""The stand-in as its own process (`python -m tests.kube.standin`), for tests and benchmarks
whose scheduler, workers or the stand-in itself must outlive one another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tests.polling import wait_until

REPO = Path(__file__).resolve().parents[2]


class StandInProcess:
    """Start with `start()` (returns self once the kubeconfig exists), inject faults with
    `inject("oom-kill", name=...)` (the names of `ApiServer.inject`), `stop()` at the end."""

    def __init__(self, directory: Path, port: int = 0) -> None:
        self.directory = Path(directory)
        self.port = port
        self.kubeconfig = self.directory / "kubeconfig"
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> StandInProcess:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.kubeconfig.unlink(missing_ok=True)
        log = (self.directory / "standin.log").open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.kube.standin",
                "--port",
                str(self.port),
                "--kubeconfig",
                str(self.kubeconfig),
            ],
            cwd=REPO,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
                ),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                output = (self.directory / "standin.log").read_text(errors="replace")
                raise AssertionError(
                    f"the kube stand-in exited with {self.process.returncode}:\n{output}"
                )
            return self.kubeconfig.exists()

        wait_until(ready, "the kube stand-in's kubeconfig", timeout=timeout)
        config = yaml.safe_load(self.kubeconfig.read_text())
        self.url = config["clusters"][0]["cluster"]["server"]
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

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
            raise AssertionError(
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
