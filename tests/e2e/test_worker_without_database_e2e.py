"""A Celery worker needs no database: one runs in a network namespace (its own "host") whose
network reaches Redis and the API server but not PostgreSQL, with no database settings in its
environment, and runs a task to success.

The proof that it never imports the ORM covers its whole process tree: the worker runs with
PYTHONPROFILEIMPORTTIME, so every process it starts (main, pool, forkserver, runners, task
processes) writes each module it imports to the worker's log, and none of them is Django's ORM,
settings or apps, our models or the PostgreSQL driver. The task itself reports, from inside, what it sees: its
modules, its environment, and that PostgreSQL is out of reach both on the namespace's loopback
and on the host's address."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dagruns.models import XCom
from tests.brokers import RedisServer
from tests.celery_workers import Worker, worker_env
from tests.e2e.conftest import Engine, configure_engine
from tests.netns import Namespace, netns  # noqa: F401
from tests.processes import ROOT, free_port, server_env, start_api_server, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

POSTGRES_PORT = 5432
# The ORM and what sets it up. (kombu's JSON module imports django.utils.functional when Django
# is installed, to encode lazy strings: a utility, not the ORM, and no settings are read.)
FORBIDDEN_MODULE = re.compile(
    r"\|\s+(django\.(db|apps|conf|contrib|core)|dagruns\.models|dagruns\.domain|orchestrator_site"
    r"\.settings|psycopg|psycopg_binary)(\.|$)"
)
INSPECT_DAG = """
@task
def inspect():
    import os, socket, sys

    def reachable(host, port):
        with socket.socket() as s:
            s.settimeout(3)
            return s.connect_ex((host, port)) == 0

    return {{
        "orm": sorted(m for m in sys.modules
                      if m.split(".")[0] in ("django", "psycopg", "psycopg_binary")
                      or m.startswith("dagruns.models")),
        "env": sorted(k for k in os.environ
                      if "DATABASE" in k or k in ("ORCH_SECRET_KEY", "DJANGO_SETTINGS_MODULE")),
        "postgres": [reachable("127.0.0.1", {port}), reachable({host!r}, {port})],
    }}

with DAG("isolated", schedule=None, start_date=START):
    inspect()
"""


class NamespacedWorker(Worker):
    """`manage.py celery worker` started inside a network namespace."""

    def __init__(self, namespace: Namespace, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.namespace = namespace

    def start(self, wait: bool = True) -> Worker:
        with open(self.log_path, "ab") as log:
            self.process = self.namespace.popen(
                [
                    sys.executable, str(ROOT / "manage.py"), "celery", "worker",
                    "-q", self.queues, "-c", str(self.concurrency), "-H", self.name,
                ],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        if wait:
            self.wait_ready()
        return self


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_a_worker_that_cannot_reach_postgresql_runs_a_task_to_success(
    netns,  # noqa: F811
    dags_folder,
    orch_settings,
    tmp_path,
):
    redis = RedisServer(tmp_path / "redis", bind=("127.0.0.1", netns.host_ip))
    redis.start()
    port = free_port()
    api_url = f"http://{netns.host_ip}:{port}"
    configure_engine(orch_settings, api_url, tmp_path, broker_url=redis.url)
    api = None
    worker = None
    engine = Engine(dags_folder, executor="celery")
    try:
        api = start_api_server(
            server_env(tmp_path / "api-home", port, ORCH_DAGS_FOLDER=str(dags_folder)),
            port,
            host=netns.host_ip,
        )
        # The worker's host: Redis and the API server are reachable, PostgreSQL is not.
        assert netns.can_connect(netns.host_ip, redis.port)
        assert netns.can_connect(netns.host_ip, port)
        assert not netns.can_connect("127.0.0.1", POSTGRES_PORT)
        assert not netns.can_connect(netns.host_ip, POSTGRES_PORT)

        env = worker_env(f"redis://{netns.host_ip}:{redis.port}/0", PYTHONPROFILEIMPORTTIME="1")
        env.pop("DJANGO_SETTINGS_MODULE", None)
        worker = NamespacedWorker(netns, env["ORCH_CELERY_BROKER_URL"], "isolated@netns",
                                  tmp_path / "worker.log", concurrency=1, env=env)  # fmt: skip
        worker.start()
        worker_env_seen = environment_of(worker.pid)
        assert not [k for k in worker_env_seen if "DATABASE" in k or k == "ORCH_SECRET_KEY"]
        assert "DJANGO_SETTINGS_MODULE" not in worker_env_seen

        engine.add("isolated.py", INSPECT_DAG.format(host=netns.host_ip, port=POSTGRES_PORT))
        engine.parse()
        run = engine.run_dag("isolated", timeout=180)
        assert engine.states(run) == {"inspect": "success"}, worker.log()
        report = XCom.objects.get(dag_run=run, task_id="inspect", key="return_value").value
        assert report == {"orm": [], "env": [], "postgres": [False, False]}
    finally:
        engine.close()
        if worker is not None:
            worker.stop()
        if api is not None:
            stop(api)
        redis.stop()

    imports = worker.log_path.read_text(errors="replace")
    assert re.search(r"\|\s+celery$", imports, re.MULTILINE), "no import log: the check is void"
    assert re.search(r"\|\s+scheduler\.runner\.supervisor$", imports, re.MULTILINE)
    forbidden = [line for line in imports.splitlines() if FORBIDDEN_MODULE.search(line)]
    assert forbidden == [], forbidden[:10]
