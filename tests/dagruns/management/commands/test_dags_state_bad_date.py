"""`manage.py dags state DAG_ID X`: X that is neither a run id nor a date is an error naming it,
with a non-zero exit (it printed None and exited 0)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.builders import make_run

ROOT = Path(__file__).resolve().parents[4]


def _database_url() -> str:
    """The test database, for a manage.py child process."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user, host, port = config["USER"], config["HOST"] or "127.0.0.1", config["PORT"] or 5432
    return f"postgresql://{user}@{host}:{port}/{config['NAME']}"


def _dags_state(home: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ORCH_HOME": str(home), "ORCH_DATABASE_URL": _database_url()}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "dags", "state", *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_an_impossible_date_is_an_error_naming_it_with_a_non_zero_exit(tmp_path):
    run = make_run()

    bad = _dags_state(tmp_path, "etl", "2024-99-99")
    assert bad.returncode != 0
    assert "'2024-99-99' is neither a run id of DAG 'etl' nor an ISO-8601 date" in bad.stderr
    assert bad.stdout == ""

    good = _dags_state(tmp_path, "etl", run.run_id)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("running")
