"""`manage.py db clean` in Airflow's shape: dry run, -y, the typed confirmation on a terminal,
refusal without one, and bad input named."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dagruns.models import AuditEvent, DagRun, TaskInstance
from tests.builders import add_run, store_dag
from tests.polling import wait_until
from tests.processes import ROOT, server_env

pytestmark = pytest.mark.django_db
OLD = timezone.now() - timedelta(days=100)
CUTOFF = (timezone.now() - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S+00:00")


@pytest.fixture(autouse=True)
def logs_here(orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"


def _old_runs():
    dag = store_dag("etl")
    add_run(dag, "old_manual", state="success", when=OLD, run_type="manual")
    add_run(dag, "old_running", state="running", when=OLD + timedelta(days=1))


def db(*argv: str) -> str:
    out = StringIO()
    call_command("db", *argv, stdout=out)
    return out.getvalue()


def test_dry_run_prints_the_config_and_counts_and_deletes_nothing():
    _old_runs()
    out = db("clean", "--clean-before-timestamp", CUTOFF, "--dry-run", "-t", "dag_run,xcom")
    assert "Performing dry run for db cleanup." in out
    assert "would be purged from tables ['dag_run', 'xcom']" in out
    assert "recency_column" in out and "newest scheduled run of each DAG is kept" in out
    assert "Rows would be deleted:" in out
    assert out.splitlines()[-3].split() == ["dag_run", "|", "1"]
    assert DagRun.objects.count() == 2


def test_yes_deletes_without_asking_and_says_what_went():
    _old_runs()
    out = db("clean", "--clean-before-timestamp", CUTOFF, "-y")
    assert "Rows deleted:" in out
    assert set(DagRun.objects.values_list("run_id", flat=True)) == {"old_running"}
    assert not TaskInstance.objects.filter(run_id="old_manual").exists()
    assert AuditEvent.objects.get(event="db_clean").owner.startswith("cli:")


def test_skip_archive_is_accepted_and_says_nothing_is_archived():
    out = db("clean", "--clean-before-timestamp", CUTOFF, "-y", "--skip-archive")
    assert "deleted rows are never archived here" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--clean-before-timestamp", "yesterday"],
            "--clean-before-timestamp 'yesterday' is not an ISO-8601 date",
        ),
        (
            ["--clean-before-timestamp", "2024-01-01", "-t", "dag_run,dags,log"],
            "unknown table(s) dags, log: the tables are dag_run, task_instance",
        ),
        (["--clean-before-timestamp", "2999-01-01", "-y"], "is in the future"),
    ],
)
def test_bad_input_is_an_error_naming_it(argv, message):
    _old_runs()
    with pytest.raises(CommandError) as error:
        db("clean", *argv)
    assert message in str(error.value)
    assert DagRun.objects.count() == 2


# --- the confirmation, in a real process ------------------------------------------------------


def _env(tmp_path) -> dict[str, str]:
    return server_env(tmp_path, 8000)


def _manage(*argv: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), *argv]


@pytest.mark.django_db(transaction=True)
def test_without_a_terminal_and_without_yes_it_refuses_and_deletes_nothing(tmp_path):
    _old_runs()
    done = subprocess.run(
        _manage("db", "clean", "--clean-before-timestamp", CUTOFF),
        env=_env(tmp_path),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "refusing to delete without confirmation" in done.stderr
    assert "pass -y (--yes)" in done.stderr and "Traceback" not in done.stderr
    assert DagRun.objects.count() == 2


def _on_a_terminal(tmp_path, answer: str) -> tuple[int, str]:
    """Run `db clean` with a pseudo-terminal as its input and output; type `answer` once it
    asks."""
    main, child = pty.openpty()
    proc = subprocess.Popen(
        _manage("db", "clean", "--clean-before-timestamp", CUTOFF),
        env=_env(tmp_path),
        cwd=ROOT,
        stdin=child,
        stdout=child,
        stderr=child,
        start_new_session=True,
    )
    os.close(child)
    seen = bytearray()

    def asked() -> bool:
        seen.extend(os.read(main, 4096))
        return b"(without quotes) to proceed" in seen

    try:
        wait_until(asked, "the confirmation question", timeout=120)
        os.write(main, answer.encode() + b"\n")
        proc.wait(120)
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child side closed: everything was read
                break
            if not chunk:
                break
            seen.extend(chunk)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    return proc.returncode, seen.decode(errors="replace")


@pytest.mark.django_db(transaction=True)
def test_on_a_terminal_it_asks_and_deletes_only_after_delete_rows_is_typed(tmp_path):
    _old_runs()
    code, output = _on_a_terminal(tmp_path, "yes")
    assert code == 1 and "User did not confirm; exiting." in output
    assert "This is irreversible." in output
    assert DagRun.objects.count() == 2
    code, output = _on_a_terminal(tmp_path, "delete rows")
    assert code == 0, output
    assert set(DagRun.objects.values_list("run_id", flat=True)) == {"old_running"}
