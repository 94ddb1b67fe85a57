"""A worker's run directory (scheduler/worker/forked.py): made with its owner's identity, and
the ones killed workers left behind on the host removed when the next worker starts."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from scheduler.worker import forked


@pytest.fixture
def temp_root(tmp_path, monkeypatch):
    """tempfile's directory is this test's, so no real worker's run directory is touched."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(forked, "_run_dir", None)
    yield tmp_path
    forked.remove_run_dir()


def run_dir_of(root: Path, name: str, owner: str | None, files: tuple[str, ...] = ()) -> Path:
    path = root / f"{forked.RUN_DIR_PREFIX}{name}"
    path.mkdir()
    if owner is not None:
        (path / forked.OWNER_FILE).write_text(owner)
    for file in files:
        (path / file).write_text("123")
    return path


def owner_line(identity: str | None, namespace: str | None = None) -> str:
    """An owner file's text: a process's identity and its pid namespace (ours by default)."""
    assert identity is not None
    return f"{identity} {namespace or forked._pid_namespace()}"


def identity_of_a_process_that_ended() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        identity = forked.process_identity(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    assert identity is not None
    return identity


def test_a_new_run_directory_names_its_worker_and_killed_workers_directories_are_removed(
    temp_root,
):
    dead = run_dir_of(
        temp_root, "dead", owner_line(identity_of_a_process_that_ended()), ("ti.1.pid", "ti.1.kill")
    )
    live = run_dir_of(temp_root, "live", owner_line(forked.process_identity(os.getppid())))
    unowned = run_dir_of(temp_root, "unowned", None, ("ti.2.pid",))
    garbled = run_dir_of(temp_root, "garbled", "not a pid")

    made = forked.make_run_dir()

    assert not dead.exists()
    assert live.exists() and unowned.exists() and garbled.exists()
    assert made.parent == temp_root and made.name.startswith(forked.RUN_DIR_PREFIX)
    assert (made / forked.OWNER_FILE).read_text() == owner_line(
        forked.process_identity(os.getpid())
    )


def test_a_worker_in_another_pid_namespace_keeps_its_directory(temp_root):
    # Another container sharing this temporary directory: its pids are not ours to look up.
    other = str(int(forked._pid_namespace() or 0) + 1)  # never ours
    elsewhere = run_dir_of(
        temp_root, "elsewhere", owner_line(identity_of_a_process_that_ended(), other)
    )
    assert forked.sweep_dead_run_dirs() == 0
    assert elsewhere.exists()


def test_a_symbolic_link_named_like_a_run_directory_is_not_followed(temp_root, tmp_path_factory):
    target = tmp_path_factory.mktemp("elsewhere")
    (target / forked.OWNER_FILE).write_text(owner_line(identity_of_a_process_that_ended()))
    (target / "precious").write_text("keep me")
    (temp_root / f"{forked.RUN_DIR_PREFIX}link").symlink_to(target, target_is_directory=True)
    assert forked.sweep_dead_run_dirs() == 0
    assert (target / "precious").exists() and (target / forked.OWNER_FILE).exists()


def test_a_pid_given_to_another_process_since_does_not_keep_a_directory(temp_root):
    # Same pid as a live process (ours), another start time: the worker that wrote it is gone.
    pid, started = forked.process_identity(os.getpid()).split()  # type: ignore[union-attr]
    reused = run_dir_of(temp_root, "reused", owner_line(f"{pid} {int(started) - 1}"))
    assert forked.sweep_dead_run_dirs() == 1
    assert not reused.exists()


def test_the_identity_of_a_process_survives_spaces_and_parentheses_in_its_name(tmp_path):
    script = tmp_path / "a (strange) name.py"
    script.write_text("import time; time.sleep(30)")
    # The command name in /proc/PID/stat is the executable's, so rename via a symlink.
    link = tmp_path / "py thon) x"
    link.symlink_to(sys.executable)
    proc = subprocess.Popen([str(link), str(script)])
    try:
        identity = forked.process_identity(proc.pid)
        assert identity is not None and identity.split()[0] == str(proc.pid)
        assert identity.split()[1].isdigit()
    finally:
        proc.kill()
        proc.wait()
    assert forked.process_identity(proc.pid) is None
