"""Browser tests: Debian's Chromium driven by Playwright (never a downloaded browser) against
the real ASGI app served by uvicorn in a subprocess — HTTP and websockets — with a real
scheduler in another subprocess, both on this session's test database. Changes made in the
test process (actions, events) reach the pages across processes, as they would in production.

Screenshots land in test-artifacts/ at the repository root (git-ignored).
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connections

from dagruns.domain.roles import Role
from dagruns.models import DagImportError, DagModel, Pool
from dagruns.models.pool import DEFAULT_POOL_NAME, DEFAULT_POOL_SLOTS
from tests.personas import PASSWORD, make_user
from tests.processes import database_url, free_port, start_api_server, start_scheduler, stop

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
        self.scheduler = start_scheduler(self.env)
        self.api = start_api_server(self.env, self.port)

    def stop(self) -> None:
        """Stop the scheduler (with its runners: one process group) before the API server, so
        no runner reports into a server that is going away."""
        for proc in (self.scheduler, self.api):
            if proc is not None:
                stop(proc)
        self.api = self.scheduler = None

    def stop_api(self) -> None:
        """Stop the API server alone (open pages lose their socket)."""
        assert self.api is not None
        stop(self.api)
        self.api = None

    def start_api(self) -> None:
        """Start the API server again on the same port (pages must reconnect)."""
        self.api = start_api_server(self.env, self.port)


@pytest.fixture(scope="package")
def stack(django_db_setup, tmp_path_factory):
    """Folders, port and environment for the servers, shared by the package's tests; the
    server processes themselves are started per test by `live_env`."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/browser.sh (apt-get install chromium)")
    import playwright.sync_api  # noqa: F401  (fail here, before any process is started)

    home = tmp_path_factory.mktemp("browser-home")
    (home / "dags").mkdir()
    port = free_port()
    env = {
        **os.environ,
        "ORCH_HOME": str(home),
        "ORCH_DATABASE_URL": database_url(),
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
