"""The virtualenv cache: one environment per key, built under a lock, never left half-built."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dagruns.sdk import AirflowException
from dagruns.sdk.venv_cache import READY_MARKER, default_cache_dir, ensure_environment


def _run(cmd: list[str]) -> tuple[int, str]:
    done = subprocess.run(cmd, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def _ensure(cache: Path, requirements: list[str], options: list[str] | None = None) -> Path:
    return ensure_environment(
        cache,
        interpreter=sys.executable,
        requirements=requirements,
        system_site_packages=False,
        pip_install_options=options or ["--no-index"],
        index_urls=None,
        run=_run,
    )


def test_the_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("ORCH_VIRTUALENV_CACHE_DIR", raising=False)
    monkeypatch.setenv("ORCH_HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / "virtualenvs"
    monkeypatch.setenv("ORCH_VIRTUALENV_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"


def test_a_failed_install_leaves_no_environment_and_names_the_requirement(tmp_path):
    with pytest.raises(AirflowException, match=r"requirements \['orch-absent==1.0'\]"):
        _ensure(tmp_path, ["orch-absent==1.0"])
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []


def test_concurrent_builds_of_one_environment_make_it_once(tmp_path):
    """Two processes ask for the same environment at once: the lock makes the second wait
    and reuse the first one's build (each reports whether it built)."""
    script = textwrap.dedent(
        f"""
        import subprocess, sys
        sys.path.insert(0, {str(Path.cwd())!r})
        from dagruns.sdk.venv_cache import ensure_environment
        built = []
        def run(cmd):
            built.append(cmd)
            done = subprocess.run(cmd, capture_output=True, text=True)
            return done.returncode, done.stdout + done.stderr
        path = ensure_environment(
            __import__("pathlib").Path({str(tmp_path)!r}), interpreter=sys.executable,
            requirements=[], system_site_packages=False, pip_install_options=[],
            index_urls=None, run=run)
        print(path, len(built))
        """
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=180)[0].split() for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert len({path for path, _ in outputs}) == 1
    assert sorted(int(builds) for _, builds in outputs) == [0, 0, 1]
    (venv,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (venv / READY_MARKER).is_file()


def test_a_leftover_without_the_ready_marker_is_rebuilt(tmp_path):
    venv = _ensure(tmp_path, [])
    killed_build = tmp_path / f".building-{venv.name.removeprefix('venv-')}-x1y2"
    killed_build.mkdir()  # as if a build was SIGKILLed before its rename
    (venv / READY_MARKER).unlink()  # as if a crash interrupted a build at this path
    (venv / "junk").write_text("half-built")
    again = _ensure(tmp_path, [])
    assert again == venv and not (venv / "junk").exists()
    assert not killed_build.exists()
    assert (venv / READY_MARKER).is_file()
