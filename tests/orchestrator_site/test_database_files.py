"""The embedded SQLite database and its -wal/-shm files are readable by their owner only (they
hold session keys and password hashes), under the usual umask 022, for a new install and for
an existing one whose files were made 0644."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Holds a write connection open (so the WAL and shared-memory files exist) and prints the
# modes of the three files.
PROBE = """
import os, stat
from django.db import connection
from django.contrib.sessions.models import Session
from django.utils import timezone
Session.objects.create(session_key="k" * 32, session_data="x", expire_date=timezone.now())
db = connection.settings_dict["NAME"]
for path in (db, db + "-wal", db + "-shm"):
    print(path, oct(stat.S_IMODE(os.stat(path).st_mode)))
"""


def _manage(home: Path, *argv: str) -> str:
    env = {**os.environ, "ORCH_HOME": str(home)}
    env.pop("ORCH_DATABASE_URL", None)  # the embedded default, whatever the suite runs on
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=lambda: os.umask(0o022),  # what most shells start with
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _modes(output: str) -> dict[str, str]:
    lines = [line.split() for line in output.splitlines() if line.startswith("/")]
    return {Path(path).name: mode for path, mode in lines}


def test_a_new_database_and_its_wal_files_are_private(tmp_path):
    _manage(tmp_path, "migrate", "-v0")
    modes = _modes(_manage(tmp_path, "shell", "-c", PROBE))
    assert modes == {
        "orchestrator.db": "0o600",
        "orchestrator.db-wal": "0o600",
        "orchestrator.db-shm": "0o600",
    }


def test_an_existing_world_readable_database_is_narrowed(tmp_path):
    _manage(tmp_path, "migrate", "-v0")
    database = tmp_path / "orchestrator.db"
    database.chmod(0o644)
    assert stat.S_IMODE(database.stat().st_mode) == 0o644
    modes = _modes(_manage(tmp_path, "shell", "-c", PROBE))
    assert set(modes.values()) == {"0o600"}
