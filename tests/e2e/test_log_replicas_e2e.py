"""Task logs across API-server replicas: two real API servers (uvicorn), each its own host
(ORCH_HOME), sharing the database and the log store (one ORCH_LOG_DIR, as a shared volume).
Lines a runner ships to one replica are read from the other — through the REST log endpoint,
the UI's log page and, live, the page's tail (the websocket's "log" event crosses hosts over
Redis or PostgreSQL NOTIFY) — and chunks shipped to both at once land whole, each once."""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.utils import timezone
from websockets.sync.client import connect as websocket_connect

from dagruns.domain.roles import Role, assign_role
from dagruns.domain.tokens import issue_token
from dagruns.models import TaskInstance
from dagruns.notify import bus
from dagruns.ui.urls import ti_url
from tests.brokers import redis_server  # noqa: F401
from tests.builders import make_run
from tests.processes import free_port, server_env, start_api_server, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@dataclass
class Replica:
    name: str
    url: str


@dataclass
class Try:
    ti: TaskInstance
    token: str

    @property
    def ids(self) -> tuple[str, str, str]:
        return self.ti.dag_id, self.ti.run_id, self.ti.task_id


@contextmanager
def two_replicas(tmp_path, **extra: str) -> Iterator[tuple[Replica, Replica]]:
    servers = []
    replicas = []
    try:
        for name in ("a", "b"):
            port = free_port()
            env = server_env(tmp_path / f"host-{name}", port, **extra)
            servers.append(start_api_server(env, port))
            replicas.append(Replica(name, f"http://127.0.0.1:{port}"))
        yield replicas[0], replicas[1]
    finally:
        for server in servers:
            stop(server)


@pytest.fixture
def running_try(orch_settings, tmp_path) -> Try:
    orch_settings.log_dir = tmp_path / "shared-logs"  # the volume both replicas mount
    run = make_run(dag_id="logged", edges={"talk": []})
    ti = TaskInstance.objects.get(dag_run=run, task_id="talk")
    TaskInstance.objects.filter(pk=ti.pk).update(
        state="running", try_number=1, hostname="worker", pid=1, last_heartbeat_at=timezone.now()
    )
    ti.refresh_from_db()
    return Try(ti, issue_token(ti.pk, 1))


@pytest.fixture
def viewer_cookie() -> str:
    for role in Role:
        Group.objects.get_or_create(name=role.group_name)
    user = User.objects.create_user("log-viewer", password="pw")
    assign_role(user, Role.VIEWER)
    client = Client()
    client.force_login(user)  # the session lives in the shared database: any replica knows it
    return f"sessionid={client.cookies['sessionid'].value}"


def ship(replica: Replica, t: Try, lines: list[str]) -> None:
    request = urllib.request.Request(
        f"{replica.url}/execution/task-instances/{t.ti.pk}/logs",
        data=json.dumps({"lines": lines}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {t.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 204


def get(replica: Replica, path: str, cookie: str, accept: str = "") -> str:
    headers = {"Cookie": cookie, **({"Accept": accept} if accept else {})}
    request = urllib.request.Request(replica.url + path, headers=headers)
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
        return response.read().decode()


def rest_log(replica: Replica, t: Try, cookie: str) -> str:
    dag_id, run_id, task_id = t.ids
    body = get(
        replica,
        f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/1?full_content=true",
        cookie,
        accept="text/plain",
    )
    return body


def page_url(t: Try) -> str:
    return f"{ti_url(*t.ids)}/logs/1"


def test_lines_shipped_to_one_replica_are_read_from_the_other(tmp_path, running_try, viewer_cookie):
    with two_replicas(tmp_path) as (a, b):
        ship(a, running_try, ["INFO - shipped to replica a", "INFO - second line"])
        assert "shipped to replica a\nINFO - second line" in rest_log(b, running_try, viewer_cookie)
        page = get(b, page_url(running_try), viewer_cookie)
        assert "shipped to replica a" in page and "second line" in page
        ship(b, running_try, ["INFO - then to replica b"])
        assert "then to replica b" in rest_log(a, running_try, viewer_cookie)


def test_chunks_shipped_to_both_replicas_at_once_land_whole_and_once(
    tmp_path, running_try, viewer_cookie
):
    chunks_per_replica, lines_per_chunk = 40, 25
    pad = "x" * 2000  # long lines: a torn write would show

    def line(replica: str, chunk: int, i: int) -> str:
        return f"INFO - {replica} chunk {chunk} line {i} {pad} end"

    with two_replicas(tmp_path) as (a, b):

        def shipper(replica: Replica) -> None:
            for chunk in range(chunks_per_replica):
                ship(
                    replica,
                    running_try,
                    [line(replica.name, chunk, i) for i in range(lines_per_chunk)],
                )

        threads = [threading.Thread(target=shipper, args=(r,)) for r in (a, b, a, b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        text = rest_log(b, running_try, viewer_cookie)
    lines = text.splitlines()
    expected = [
        line(name, chunk, i)
        for name in ("a", "b")
        for chunk in range(chunks_per_replica)
        for i in range(lines_per_chunk)
    ]
    assert len(lines) == 2 * len(expected)  # each (replica, chunk) was shipped by two threads
    assert sorted(lines) == sorted(expected * 2)
    # A chunk is one write: its lines stay together, in order.
    for start in range(0, len(lines), lines_per_chunk):
        block = lines[start : start + lines_per_chunk]
        match = re.match(r"INFO - (\w) chunk (\d+) line 0 ", block[0])
        assert match, block[0][:60]
        name, chunk = match.group(1), int(match.group(2))
        assert block == [line(name, chunk, i) for i in range(lines_per_chunk)]


@pytest.mark.parametrize("transport", [bus.REDIS, bus.POSTGRES])
def test_a_page_on_one_replica_tails_lines_shipped_to_the_other(
    transport, request, tmp_path, running_try, viewer_cookie
):
    extra = {}
    if transport == bus.REDIS:
        extra["ORCH_REDIS_URL"] = request.getfixturevalue("redis_server").url
    elif connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL (runs in the PG pass)")
    with two_replicas(tmp_path, **extra) as (a, b):
        ship(a, running_try, ["INFO - before the page opened"])
        page = get(b, page_url(running_try), viewer_cookie)
        assert "before the page opened" in page
        # The page's live tail element: htmx fetches this URL on each "log" event.
        [tail_url] = re.findall(r'class="log-tail"[^>]* hx-get="([^"]+)"', page)
        tail_url = tail_url.replace("&amp;", "&")
        ws_url = b.url.replace("http://", "ws://") + f"/ws/dags/{running_try.ti.dag_id}/?view=ti"
        with websocket_connect(ws_url, additional_headers={"Cookie": viewer_cookie}) as socket:
            ship(a, running_try, ["INFO - shipped while the page watches"])
            event = None
            while event is None:  # bounded by the receive timeout
                raw = socket.recv(timeout=60)
                if raw.startswith("{"):  # the events (HTML fragments come first)
                    message = json.loads(raw)
                    event = next((e for e in message["events"] if e["kind"] == "log"), None)
            assert event["task_id"] == "talk" and event["try_number"] == 1
        tail = get(b, tail_url, viewer_cookie)
        assert "shipped while the page watches" in tail
        assert "before the page opened" not in tail  # only what came after the page's end
