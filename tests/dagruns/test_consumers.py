"""The websocket of open pages: refused without a session or a role; after a change it sends
the changed grid cells / graph nodes as out-of-band fragments and the events as JSON; and
events published by another process reach it over the local bus (no Redis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.layers import channel_layers
from django.contrib.auth.models import Group, User
from django.test import Client

from dagruns.domain.roles import Role, assign_role
from dagruns.models import TaskInstance
from dagruns.notify import event_listener
from dagruns.notify.events import publish
from dagruns.ui import structure
from orchestrator_site.asgi import application
from tests.builders import add_run, store_dag
from tests.processes import database_url

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def isolated(orch_settings, tmp_path):
    orch_settings.home = tmp_path
    orch_settings.log_dir = tmp_path / "logs"
    channel_layers.backends = {}
    structure.clear_cache()
    yield tmp_path
    event_listener.stop()
    channel_layers.backends = {}


def session_cookie(role: Role | None) -> bytes:
    for r in Role:
        Group.objects.get_or_create(name=r.group_name)
    user = User.objects.create_user(f"ws-{role}", password="pw")
    if role:
        assign_role(user, role)
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


class WebsocketCommunicator(ApplicationCommunicator):
    """Channels' own test communicator without channels.testing (which needs daphne)."""

    def __init__(self, app, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        from urllib.parse import unquote

        path, _, query = path.partition("?")
        scope = {
            "type": "websocket",
            "path": unquote(path),
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": headers,
            "subprotocols": [],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        super().__init__(app, scope)

    async def connect(self, timeout: float = 5):
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        return True, response.get("subprotocol")

    async def receive_from(self, timeout: float = 5) -> str:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return response["text"]

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


def communicator(
    path: str,
    cookie: bytes | None,
    origin: bytes | None = b"http://testserver",
    host: bytes = b"testserver",
) -> WebsocketCommunicator:
    headers = [(b"host", host)]
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers)


def _set_state(run, task_id: str, state: str) -> dict:
    TaskInstance.objects.filter(dag_run=run, task_id=task_id).update(state=state, try_number=1)
    return {
        "kind": "ti",
        "dag_id": run.dag_id,
        "run_id": run.run_id,
        "task_id": task_id,
        "try_number": 1,
    }


async def _messages(comm: WebsocketCommunicator, count: int) -> list[str]:
    return [await comm.receive_from(timeout=5) for _ in range(count)]


def test_the_socket_is_refused_without_a_session():
    store_dag("etl")

    async def go():
        comm = communicator("/ws/dags/etl/?view=grid", None)
        connected, _ = await comm.connect()
        assert not connected

    async_to_sync(go)()


def test_the_socket_is_refused_for_a_user_without_a_role():
    store_dag("etl")
    cookie = session_cookie(None)

    async def go():
        connected, _ = await communicator("/ws/dags/etl/", cookie).connect()
        assert not connected

    async_to_sync(go)()


def test_a_socket_for_an_unknown_dag_is_refused():
    cookie = session_cookie(Role.VIEWER)

    async def go():
        connected, _ = await communicator("/ws/dags/nope/", cookie).connect()
        assert not connected

    async_to_sync(go)()


def test_a_change_sends_the_grid_cell_out_of_band_then_the_event():
    dag = store_dag("etl", {"extract": ["g.a"], "g.a": []}, groups={"g": ["g.a"]})
    run = add_run(dag, run_id="run/with+odd:chars")
    cookie = session_cookie(Role.VIEWER)

    async def go():
        comm = communicator("/ws/dags/etl/?view=grid&num_runs=25", cookie)
        connected, _ = await comm.connect()
        assert connected
        event = await _database(lambda: _set_state(run, "g.a", "running"))
        publish(event)
        html, events = await _messages(comm, 2)
        await comm.disconnect()
        return html, events

    html, events = async_to_sync(go)()
    assert 'hx-swap-oob="true"' in html
    assert 'data-task-id="g.a"' in html and 'data-state="running"' in html
    assert 'data-run-id="run/with+odd:chars"' in html
    assert 'data-group-id="g"' in html  # the group's summary cell follows
    assert json.loads(events)["events"][0]["task_id"] == "g.a"


def test_a_graph_page_gets_svg_nodes_of_its_run_only():
    dag = store_dag("etl")
    old = add_run(dag, run_id="old")
    new = add_run(dag, run_id="new")
    cookie = session_cookie(Role.VIEWER)

    async def go():
        comm = communicator("/ws/dags/etl/?view=graph&run_id=new", cookie)
        assert (await comm.connect())[0]
        publish(await _database(lambda: _set_state(old, "load", "failed")))
        only_json = await comm.receive_from(timeout=5)
        publish(await _database(lambda: _set_state(new, "extract", "success")))
        html, _ = await _messages(comm, 2)
        await comm.disconnect()
        return only_json, html

    only_json, html = async_to_sync(go)()
    assert only_json.startswith("{")
    assert html.startswith('<svg class="node s-success"') and 'hx-swap-oob="true"' in html
    assert 'data-task-id="extract"' in html


def test_the_dag_list_hears_runs_and_dags_not_task_instances():
    store_dag("etl")
    cookie = session_cookie(Role.VIEWER)

    async def go():
        comm = communicator("/ws/dags/?view=list", cookie)
        assert (await comm.connect())[0]
        publish({"kind": "ti", "dag_id": "etl", "run_id": "r", "task_id": "t", "try_number": 1})
        publish({"kind": "run", "dag_id": "etl", "run_id": "r", "task_id": "", "try_number": None})
        message = await comm.receive_from(timeout=5)
        assert await comm.receive_nothing(timeout=0.3)
        await comm.disconnect()
        return message

    assert [e["kind"] for e in json.loads(async_to_sync(go)())["events"]] == ["run"]


def test_events_from_another_process_reach_the_page_over_the_bus(isolated):
    """The local bus on SQLite, PostgreSQL NOTIFY on PostgreSQL (dagruns/notify/bus.py)."""
    store_dag("etl")
    cookie = session_cookie(Role.VIEWER)
    env = {**os.environ, "ORCH_HOME": str(isolated), "ORCH_DATABASE_URL": database_url()}
    env.pop("ORCH_REDIS_URL", None)
    code = (
        "from dagruns.notify.events import publish; "
        "publish({'kind': 'run', 'dag_id': 'etl', 'run_id': 'from-cli', 'task_id': '', 'try_number': None})"
    )

    async def go():
        comm = communicator("/ws/dags/etl/?view=runs", cookie)
        assert (await comm.connect())[0]
        await _database(
            lambda: subprocess.run(
                [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
                env=env,
                check=True,
                cwd=ROOT,
            )
        )
        message = await comm.receive_from(timeout=10)
        await comm.disconnect()
        return message

    assert json.loads(async_to_sync(go)())["events"][0]["run_id"] == "from-cli"


async def _database(fn):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(fn)()


@pytest.mark.parametrize(
    "origin",
    [
        b"http://evil.example",
        b"http://testserver.evil.example",
        b"http://testserver:8080",  # another site on the same host
        b"null",  # a sandboxed frame or a file:// page
    ],
)
def test_a_signed_in_session_from_another_origin_cannot_open_the_socket(origin):
    store_dag("etl")
    cookie = session_cookie(Role.VIEWER)

    async def go():
        refused, _ = await communicator("/ws/dags/etl/?view=grid", cookie, origin=origin).connect()
        assert not refused
        same_site, _ = await communicator("/ws/dags/etl/?view=grid", cookie).connect()
        assert same_site

    async_to_sync(go)()


def test_origins_behind_a_proxy_are_accepted_when_trusted(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://orchestrator.example.com"]
    store_dag("etl")
    cookie = session_cookie(Role.VIEWER)

    async def go():
        proxied = communicator(
            "/ws/dags/etl/",
            cookie,
            origin=b"https://orchestrator.example.com",
            host=b"10.0.0.5:8000",
        )
        assert (await proxied.connect())[0]
        other = communicator(
            "/ws/dags/etl/", cookie, origin=b"https://other.example.com", host=b"10.0.0.5:8000"
        )
        assert not (await other.connect())[0]

    async_to_sync(go)()


def test_a_host_outside_allowed_hosts_is_refused_even_with_a_matching_origin(settings):
    settings.ALLOWED_HOSTS = ["orchestrator.example.com"]
    store_dag("etl")
    cookie = session_cookie(Role.VIEWER)

    async def go():
        rebinding = communicator(
            "/ws/dags/etl/", cookie, origin=b"http://attacker.example", host=b"attacker.example"
        )
        assert not (await rebinding.connect())[0]
        ours = communicator(
            "/ws/dags/etl/",
            cookie,
            origin=b"https://orchestrator.example.com",
            host=b"orchestrator.example.com",
        )
        assert (await ours.connect())[0]

    async_to_sync(go)()


def test_live_cells_show_their_dates_in_the_zone_the_page_was_rendered_in():
    """The socket renders with the timezone cookie its handshake carried, as the page did."""
    dag = store_dag("etl", {"extract": []})
    run = add_run(dag, run_id="r1")
    cookie = session_cookie(Role.VIEWER) + b"; orch_timezone=Asia/Tokyo"

    def started() -> dict:
        TaskInstance.objects.filter(dag_run=run, task_id="extract").update(
            start_date=datetime(2026, 11, 30, 0, 33, 18, tzinfo=UTC)
        )
        return _set_state(run, "extract", "running")

    async def go():
        comm = communicator("/ws/dags/etl/?view=grid&num_runs=25", cookie)
        connected, _ = await comm.connect()
        assert connected
        publish(await _database(started))
        html, _events = await _messages(comm, 2)
        await comm.disconnect()
        return html

    html = async_to_sync(go)()
    assert "Start: 2026-11-30 09:33:18 JST" in html
