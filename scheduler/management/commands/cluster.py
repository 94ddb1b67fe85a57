"""`manage.py cluster`: the distributed set-up on one machine, in one command.

Brings up what a production deployment runs, each as its own process: the API server, two
schedulers, the DAG processor, a triggerer, Celery beat and two Celery workers — on PostgreSQL (the
metadata database) and Redis (the Celery broker, and the bus that wakes schedulers and pages
across hosts). Defaults: PostgreSQL at 127.0.0.1:5432 (database `orchestrator`, created if
missing, then migrated) and Redis at 127.0.0.1:6379; ORCH_DATABASE_URL, ORCH_REDIS_URL
(or ORCH_CELERY_BROKER_URL) and ORCH_EXECUTOR, when set, win. A first admin user is created
as `manage.py standalone` does.

The processes are the ones that spread over machines (README, "Distributed set-up"); here one
process tree keeps them (scheduler/standalone/supervisor.py: prefixed output, a child that dies
is restarted, Ctrl-C stops them in order: schedulers first — they drain while workers and the
API server still take reports — then the triggerer, beat and the DAG processor, the workers (a warm
shutdown: running tries finish), the API server last). The workers get no database settings
and no secret key: like a worker on another machine, they talk only to Redis and the API
server.

Not in Airflow (whose docs show a docker-compose file for this); our equivalent of that file.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from scheduler.management.commands.standalone import ensure_admin

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/orchestrator"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# What the worker processes do not get: they need no database (the seed's security rule).
WORKER_UNSET = ("ORCH_DATABASE_URL", "ORCH_SECRET_KEY", "DJANGO_SETTINGS_MODULE")
_REEXEC_MARK = "CLUSTER_COMMAND_REEXECUTED"  # not an ORCH_ setting: internal to this command


def masked(url: str) -> str:
    """`url` without its password (for the banner and error messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class Command(BaseCommand):
    help = (
        "Run the distributed set-up on this machine: API server, schedulers, DAG processor, "
        "Celery beat and Celery workers on PostgreSQL and Redis."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="the API server's address")
        parser.add_argument("--port", type=int, default=8000, help="the API server's port")
        parser.add_argument(
            "--schedulers", type=int, default=2, help="scheduler processes (default 2)"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="Celery worker processes (default 2; 0 when workers run on other machines)",
        )
        parser.add_argument(
            "-c", "--concurrency", type=int, default=4, help="tries each worker runs at once"
        )
        parser.add_argument(
            "-q", "--queues", default="default", help="queues the workers serve (comma-separated)"
        )
        parser.add_argument(
            "--no-beat",
            action="store_true",
            help="do not run Celery beat (one beat per deployment: when it runs elsewhere)",
        )

    def handle(self, *args, **options):
        for name in ("schedulers", "workers", "concurrency"):
            minimum = 0 if name == "workers" else 1
            if options[name] < minimum:
                raise CommandError(f"--{name} must be at least {minimum}, not {options[name]}")
        if not os.environ.get(_REEXEC_MARK):
            self._reexec_with_defaults(options)
        database = settings.DATABASES["default"]
        if "postgresql" not in database["ENGINE"]:
            raise CommandError(
                "manage.py cluster runs several schedulers and needs PostgreSQL, but "
                f"ORCH_DATABASE_URL is {masked(settings.ORCH.database_url or '')!r} "
                f"(unset it for {DEFAULT_DATABASE_URL})"
            )
        self._create_database(database)
        broker = self._check_redis()
        call_command("migrate", interactive=False, verbosity=0)
        ensure_admin(self.stdout, settings.ORCH.home / "cluster_admin_password.txt")
        self._exec_supervisor(options, broker)

    # -- configuration -------------------------------------------------------------------

    def _reexec_with_defaults(self, options: dict[str, Any]) -> None:
        """Settings are read when Django starts: put the cluster's defaults into the
        environment and start this command again with them."""
        env = os.environ
        env.setdefault("ORCH_DATABASE_URL", DEFAULT_DATABASE_URL)
        if not env.get("ORCH_CELERY_BROKER_URL"):
            env.setdefault("ORCH_REDIS_URL", DEFAULT_REDIS_URL)
        env.setdefault("ORCH_EXECUTOR", "celery")
        env.setdefault("ORCH_LOAD_EXAMPLES", "true")
        env.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")
        reachable = "127.0.0.1" if options["host"] in ("0.0.0.0", "::", "") else options["host"]
        env.setdefault("ORCH_API_URL", f"http://{reachable}:{options['port']}")
        env[_REEXEC_MARK] = "1"
        argv = [
            sys.executable, str(settings.BASE_DIR / "manage.py"), "cluster",
            "--host", options["host"], "--port", str(options["port"]),
            "--schedulers", str(options["schedulers"]), "--workers", str(options["workers"]),
            "--concurrency", str(options["concurrency"]), "--queues", options["queues"],
        ]  # fmt: skip
        if options["no_beat"]:
            argv.append("--no-beat")
        self.stdout.flush()
        os.execv(sys.executable, argv)

    def _create_database(self, database: dict[str, Any]) -> None:
        """CREATE DATABASE when it does not exist yet (through the server's `postgres`
        database); a clear error when the server cannot be reached."""
        import psycopg
        from psycopg import sql

        name = database["NAME"]
        params: dict[str, Any] = {
            "dbname": "postgres",
            "user": database.get("USER") or None,
            "password": database.get("PASSWORD") or None,
            "host": database.get("HOST") or None,
            "port": database.get("PORT") or None,
            "connect_timeout": 10,
        }
        where = f"{database.get('HOST') or 'localhost'}:{database.get('PORT') or 5432}"
        try:
            with psycopg.connect(
                **{k: v for k, v in params.items() if v is not None}, autocommit=True
            ) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [name]
                ).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    self.stdout.write(f"Created the database {name!r} on {where}.")
        except psycopg.Error as exc:
            raise CommandError(
                f"PostgreSQL at {where} (ORCH_DATABASE_URL) cannot be used: {str(exc).strip()}"
            ) from None

    def _check_redis(self) -> str:
        import redis

        from orchestrator_site.celery import broker_url

        url = broker_url(settings.ORCH)
        variable = "ORCH_CELERY_BROKER_URL" if settings.ORCH.celery_broker_url else "ORCH_REDIS_URL"
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise CommandError(
                f"Redis at {masked(url)} ({variable}) cannot be reached: {exc}"
            ) from None
        finally:
            client.close()
        return url

    # -- the process tree ----------------------------------------------------------------

    def _exec_supervisor(self, options: dict[str, Any], broker: str) -> None:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        host, port = options["host"], options["port"]
        grace = float(settings.ORCH.shutdown_grace) + 15.0
        children: list[dict[str, Any]] = [
            {
                "name": "api-server",
                "argv": [
                    python, "-m", "uvicorn", "orchestrator_site.asgi:application",
                    "--host", host, "--port", str(port), "--no-access-log",
                ],
                "stop_timeout": 10.0,
            },
            {"name": "dag-processor", "argv": [python, manage, "dag_processor"]},
            # Deferred tasks resume only with a triggerer running.
            {"name": "triggerer", "argv": [python, manage, "triggerer"], "stop_timeout": 15.0},
        ]  # fmt: skip
        schedulers = [f"scheduler-{i}" for i in range(1, options["schedulers"] + 1)]
        children += [
            {"name": name, "argv": [python, manage, "scheduler"], "stop_timeout": grace}
            for name in schedulers
        ]
        if not options["no_beat"]:
            children.append({"name": "beat", "argv": [python, manage, "celery", "beat"]})
        workers = [f"worker-{i}" for i in range(1, options["workers"] + 1)]
        machine = socket.gethostname()
        children += [
            {
                "name": name,
                "argv": [
                    python, manage, "celery", "worker",
                    "-q", options["queues"], "-c", str(options["concurrency"]),
                    "--hostname", f"{name}@{machine}",
                ],
                "stop_timeout": grace,
                "env": {variable: None for variable in WORKER_UNSET},
            }
            for name in workers
        ]  # fmt: skip
        database = settings.DATABASES["default"]
        banner = (
            f"orchestrator cluster is up: http://{host}:{port}/ — PostgreSQL "
            f"{database.get('HOST') or 'localhost'}:{database.get('PORT') or 5432}/"
            f"{database['NAME']}, Redis {masked(broker)}, {len(schedulers)} scheduler(s), "
            f"{len(workers)} worker(s), a triggerer{'' if options['no_beat'] else ', beat'} "
            "(Ctrl-C stops everything)"
        )
        spec = {
            "children": children,
            "stop_order": [
                *schedulers,
                "triggerer",
                "beat",
                "dag-processor",
                *workers,
                "api-server",
            ],
            "banner": banner,
        }
        os.environ.pop(_REEXEC_MARK, None)
        self.stdout.flush()
        os.execv(python, [python, "-m", "scheduler.standalone.supervisor", json.dumps(spec)])
