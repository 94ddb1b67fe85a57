"""Browser tests: Debian's Chromium driven by Playwright (never a downloaded browser) against
the real ASGI app served by uvicorn in a subprocess — HTTP and websockets — with a real
scheduler in another subprocess, both on this session's test database. Changes made in the
test process (actions, events) reach the pages across processes, as they would in production.

Screenshots land in test-artifacts/ at the repository root (git-ignored).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, connections

from dagruns.domain.roles import Role
from dagruns.models import DagImportError, DagModel, Pool
from dagruns.models.pool import DEFAULT_POOL_NAME, DEFAULT_POOL_SLOTS
from tests.personas import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

DAG_HEADER = """\
from datetime import datetime
from dagruns.sdk import DAG, BashOperator, EmptyOperator, TaskGroup
START = datetime(2024, 1, 1)
"""


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@dataclass
class Stack:
    """The servers one browser test talks to. Their folders and port live for the package;
    the processes live for one test (see `live_env`)."""

    url: str
    home: Path
    env: dict[str, str]
    api: subprocess.Popen | None = None
    scheduler: subprocess.Popen | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def start(self) -> None:
        self.api = _start_api(self.env, self.port)
        self.scheduler = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "scheduler"],
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )
        _wait_http(self.url + "/login/", self.api)

    def stop(self) -> None:
        """Stop the scheduler (with its runners: one process group) before the API server, so
        no runner reports into a server that is going away."""
        for proc in (self.scheduler, self.api):
            if proc is not None:
                _stop(proc)
        self.api = self.scheduler = None

    def restart_api(self) -> None:
        """Stop the API server and start it again on the same port (pages must reconnect)."""
        assert self.api is not None
        _stop(self.api)
        self.api = _start_api(self.env, self.port)
        _wait_http(self.url + "/login/", self.api)


def _start_api(env: dict[str, str], port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "orchestrator_site.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    # Whatever else the group held (a forkserver, runners) goes too: nothing of this test may
    # still talk to the database when the next one starts.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="package")
def stack(django_db_setup, tmp_path_factory):
    """Folders, port and environment for the servers, shared by the package's tests; the
    server processes themselves are started per test by `live_env`."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/browser.sh (apt-get install chromium)")
    import playwright.sync_api  # noqa: F401  (fail here, before any process is started)

    home = tmp_path_factory.mktemp("browser-home")
    (home / "dags").mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "ORCH_HOME": str(home),
        "ORCH_DATABASE_URL": _database_url(),
        "ORCH_DAGS_FOLDER": str(home / "dags"),
        "ORCH_LOG_DIR": str(home / "logs"),
        "ORCH_SECRET_KEY": settings.SECRET_KEY,
        "ORCH_API_URL": f"http://127.0.0.1:{port}",
        "ORCH_DEBUG": "false",
        "ORCH_LOG_LEVEL": "WARNING",
        "ORCH_TASK_HEARTBEAT_INTERVAL": "0.5",
        "ORCH_SCHEDULER_IDLE_SLEEP": "0.05",
        "ORCH_LOAD_EXAMPLES": "false",
    }
    env.pop("ORCH_REDIS_URL", None)  # the embedded default: events over the local bus
    stack = Stack(f"http://127.0.0.1:{port}", home, env)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def live_env(stack, transactional_db, orch_settings, monkeypatch):
    """Servers running for this test only, on this test's rows; the folders are the stack's
    (events this test process publishes reach the server), and the rows a transactional flush
    removed (role groups, the default pool) exist again.

    The servers stop before the test's database flush (this fixture's teardown runs first):
    a scheduler or runner still working while the flush TRUNCATEs the tables could deadlock
    with it on PostgreSQL, leave rows behind, and fail the next test."""
    orch_settings.home = stack.home
    orch_settings.dags_folder = stack.home / "dags"
    orch_settings.log_dir = stack.home / "logs"
    orch_settings.load_examples = False
    # Playwright's sync API keeps an event loop marked running in this thread while the test
    # uses the ORM; Django's async-safety check would refuse (playwright-python#439).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    for role in Role:
        Group.objects.get_or_create(name=role.group_name)
    Pool.objects.get_or_create(name=DEFAULT_POOL_NAME, defaults={"slots": DEFAULT_POOL_SLOTS})
    for path in (stack.home / "dags").glob("*.py"):
        path.unlink()
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def browser(live_env):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
        # While Playwright's loop runs, Django keeps this test's connection in the loop's
        # context: close it here, or PostgreSQL cannot drop the test database at the end.
        connections.close_all()


CSP_VIOLATION = "Content Security Policy"


class Pages:
    """Browser contexts of one test. Every console error and uncaught exception of every page
    is kept (`console_errors`); a Content-Security-Policy violation on any page fails the test
    at teardown, whatever the test was about."""

    def __init__(self, browser, stack: Stack) -> None:
        self.browser = browser
        self.stack = stack
        self.contexts = []
        self.console_errors: list[str] = []

    def open(self, username: str, password: str, *, dark: bool = False, bypass_csp: bool = False):
        """A fresh browser context (1280 px wide), logged in through the login form.
        `bypass_csp`: the browser ignores the policy (to prove escaping alone holds)."""
        context = self.browser.new_context(
            base_url=self.stack.url,
            viewport={"width": 1280, "height": 860},
            color_scheme="dark" if dark else "light",
            bypass_csp=bypass_csp,
        )
        context.set_default_timeout(20_000)
        self.contexts.append(context)
        page = context.new_page()
        self.watch(page)
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(self.stack.url + "/")
        return page

    def watch(self, page) -> None:
        def on_console(message) -> None:
            if message.type == "error":
                self.console_errors.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"{page.url}: {exc}"))

    def csp_violations(self) -> list[str]:
        return [e for e in self.console_errors if CSP_VIOLATION in e]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser, live_env):
    opened = Pages(browser, live_env)
    yield opened
    opened.close()
    assert not opened.csp_violations(), opened.csp_violations()


def person(username: str, role: Role) -> tuple[str, str]:
    """Someone to log in as through the login form: (username, password)."""
    make_user(username, role)
    return username, PASSWORD


def write_dag(stack: Stack, name: str, body: str) -> None:
    """Write a DAG file into the stack's folder and parse it here, unpaused."""
    from scheduler.processor.loop import DagProcessor

    (stack.home / "dags" / f"{name}.py").write_text(DAG_HEADER + textwrap.dedent(body))
    DagProcessor(timeout=30).run_once()
    errors = list(DagImportError.objects.values_list("filename", "message"))
    assert not errors, errors
    DagModel.objects.update(is_paused=False)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
