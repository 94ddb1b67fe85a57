"""Real server processes for tests: the API server (uvicorn, as production runs it) and
schedulers (`manage.py scheduler`), on this test session's database, each in its own process
group so a test stops it with everything it started."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """This session's test database as an ORCH_DATABASE_URL."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def server_env(home: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a process that shares this test's database, secret and folders."""
    # Nothing of this shell's ORCH_ settings leaks in (no Redis: events over the local bus).
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORCH_")}
    env.update(
        {
            "ORCH_HOME": str(home),
            "ORCH_DATABASE_URL": database_url(),
            "ORCH_DAGS_FOLDER": str(home / "dags"),
            "ORCH_LOG_DIR": str(settings.ORCH.log_dir),
            "ORCH_SECRET_KEY": settings.SECRET_KEY,
            "ORCH_API_URL": f"http://127.0.0.1:{port}",
            "ORCH_LOG_LEVEL": "WARNING",
            "ORCH_LOAD_EXAMPLES": "false",
        }
    )
    env.update(extra)
    return env


def start_api_server(env: dict[str, str], port: int, host: str = "127.0.0.1") -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "orchestrator_site.asgi:application",
            "--host", host, "--port", str(port),
            "--log-level", "warning", "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_http(f"http://{host}:{port}/login/", server)
    except BaseException:
        stop(server)
        raise
    return server


def start_scheduler(env: dict[str, str], log_file: Path | None = None) -> subprocess.Popen:
    """A `manage.py scheduler` process; its log (stderr) goes to `log_file` when given."""
    with open(log_file, "ab") if log_file else contextlib.nullcontext() as err:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "scheduler"],
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group, SIGKILL if it does not end within 30 s."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        except ProcessLookupError:
            pass
    proc.wait()
    # Whatever else the group held (a forkserver, runners) goes too: nothing a test started
    # may still talk to the database when the next one starts.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def peak_rss(pid: int) -> int:
    """The process's peak resident memory so far, in bytes (Linux's VmHWM): every high point
    counts, however short, with no sampling to miss it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/<pid>/status")


def start_triggerer(env: dict[str, str], *args: str) -> subprocess.Popen:
    """`manage.py triggerer` on this test's database (its own process group, its log on
    stderr)."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "triggerer", *args],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
