"""`manage.py standalone`: the whole orchestrator in one process tree on the embedded default.

Like `airflow standalone`: migrates the database, creates a first admin user (printing its
password once), then runs the API server, the DAG processor, the scheduler (with the local
executor inside it) and the triggerer with the example DAGs loaded. A child that dies is restarted; Ctrl-C (or
SIGTERM) stops the scheduler first — it lets running tries finish for ORCH_SHUTDOWN_GRACE
seconds while the API server still takes their reports — then the API server
(scheduler/standalone/supervisor.py).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "Run the API server, DAG processor, scheduler and triggerer together, with the example "
        "DAGs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options):
        call_command("migrate", interactive=False, verbosity=0)
        ensure_admin(self.stdout, settings.ORCH.home / "standalone_admin_password.txt")
        env = dict(os.environ)
        # Standalone is the first thing a new user runs: show them something.
        env.setdefault("ORCH_LOAD_EXAMPLES", "true")
        env.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")
        # Task runners reach the Execution API of this very server.
        reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        env.setdefault("ORCH_API_URL", f"http://{reachable}:{port}")
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        api_server = [
            python, "-m", "uvicorn", "orchestrator_site.asgi:application",
            "--host", host, "--port", str(port), "--no-access-log",
        ]  # fmt: skip
        children = [
            {"name": "api-server", "argv": api_server, "stop_timeout": 10.0},
            # The DAG processor runs as a thread of the scheduler process here: one Django
            # process and one forkserver fewer (see README, "footprint"). Its stop timeout
            # covers the grace it gives running tries, plus the time to requeue the rest.
            {
                "name": "scheduler",
                "argv": [python, manage, "scheduler", "--with-dag-processor"],
                "stop_timeout": float(settings.ORCH.shutdown_grace) + 15.0,
            },
        ]
        # Deferred tasks resume only with a triggerer running.
        children.append(
            {"name": "triggerer", "argv": [python, manage, "triggerer"], "stop_timeout": 15.0}
        )
        spec = {
            "children": children,
            # The scheduler stops first, while the API server still takes the reports of the
            # tries it lets finish; the triggerer next, releasing its triggers.
            "stop_order": ["scheduler", "triggerer", "api-server"],
            "banner": f"orchestrator is up: http://{host}:{port}/ (Ctrl-C stops everything)",
        }
        self.stdout.flush()
        os.environ.clear()
        os.environ.update(env)
        # Replace this Django process with the Django-free supervisor (same pid, so Ctrl-C
        # and process managers see no difference).
        os.execv(python, [python, "-m", "scheduler.standalone.supervisor", json.dumps(spec)])


def ensure_admin(stdout, password_file: Path) -> None:
    """Create the first admin user (printing its password once, and keeping it in
    `password_file`) unless a superuser exists."""
    User = get_user_model()
    if User.objects.filter(is_superuser=True).exists():
        if password_file.exists():
            stdout.write(f"Login with username: {ADMIN_USERNAME}  password: (see {password_file})")
        return
    password = secrets.token_urlsafe(12)
    User.objects.create_superuser(ADMIN_USERNAME, email="", password=password)
    password_file.parent.mkdir(parents=True, exist_ok=True)
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    stdout.write(
        f"Created the first admin user.\n"
        f"Login with username: {ADMIN_USERNAME}  password: {password}\n"
        f"(also stored in {password_file})"
    )
