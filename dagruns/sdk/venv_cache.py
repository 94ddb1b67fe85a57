"""Python virtual environments for ``PythonVirtualenvOperator`` / ``@task.virtualenv``,
built once per set of requirements and reused.

Where: ``venv_cache_path`` of the task if given (Airflow's argument), else
``ORCH_VIRTUALENV_CACHE_DIR``, else ``$ORCH_HOME/virtualenvs`` (the default the settings
declare; read from the environment here because the SDK runs in task runners without Django).
Each environment lives in ``venv-<hash>``, the hash taken over everything that shapes it
(interpreter, requirements, pip options, index URLs, system site packages).

Safety: a build holds an exclusive lock on ``venv-<hash>.lock`` (two tries building the same
environment at once wait for each other instead of both writing into it), happens in a
temporary directory next to the final one, and is renamed into place only after pip
succeeded. A failed or killed build therefore never leaves a half-installed environment
where the next try would take it for a good one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from .exceptions import AirflowException

log = logging.getLogger(__name__)

# Written last into a finished environment: its presence means "complete".
READY_MARKER = "orchestrator_venv_ready.json"
# pip's output kept in a failure message (the end says which requirement failed).
PIP_OUTPUT_TAIL = 30


def default_cache_dir() -> Path:
    """``ORCH_VIRTUALENV_CACHE_DIR``, else ``$ORCH_HOME/virtualenvs``; ORCH_HOME's own default
    is ``./var`` of the installation, as orchestrator_site.config declares it."""
    explicit = os.environ.get("ORCH_VIRTUALENV_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    home = os.environ.get("ORCH_HOME")
    base = (
        Path(home).expanduser().resolve() if home else Path(__file__).resolve().parents[2] / "var"
    )
    return base / "virtualenvs"


def find_interpreter(python_version: str | None) -> str:
    """The interpreter a new environment is made from: this one, or ``python<version>`` on
    PATH; a version that is not installed is refused, naming it."""
    if python_version is None:
        return sys.executable
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    if python_version in (current, str(sys.version_info.major)):
        return sys.executable
    found = shutil.which(f"python{python_version}")
    if found is None:
        raise AirflowException(
            f"python_version {python_version!r} is not available on this worker: no "
            f"'python{python_version}' on PATH (this worker runs Python {current})"
        )
    return found


def environment_key(
    *,
    interpreter: str,
    requirements: Sequence[str],
    system_site_packages: bool,
    pip_install_options: Sequence[str],
    index_urls: Sequence[str] | None,
) -> tuple[str, str]:
    """(hash, the JSON it was taken over): everything that makes two environments differ."""
    data = json.dumps(
        {
            "interpreter": os.path.realpath(interpreter),
            "requirements": sorted(requirements),
            "system_site_packages": system_site_packages,
            "pip_install_options": list(pip_install_options),
            "index_urls": list(index_urls) if index_urls is not None else None,
        },
        sort_keys=True,
    )
    return hashlib.sha256(data.encode()).hexdigest()[:16], data


def ensure_environment(
    cache_dir: Path,
    *,
    interpreter: str,
    requirements: Sequence[str],
    system_site_packages: bool,
    pip_install_options: Sequence[str],
    index_urls: Sequence[str] | None,
    run: Callable[[list[str]], tuple[int, str]],
) -> Path:
    """The path of a ready environment, built now if the cache has none.

    ``run(cmd)`` runs a command and returns (exit code, output); the operator passes one
    that logs each line and can be interrupted by on_kill."""
    key, description = environment_key(
        interpreter=interpreter,
        requirements=requirements,
        system_site_packages=system_site_packages,
        pip_install_options=pip_install_options,
        index_urls=index_urls,
    )
    final = cache_dir / f"venv-{key}"
    if (final / READY_MARKER).is_file():
        log.info("Reusing the cached Python virtual environment in %s", final)
        return final
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / f"venv-{key}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("Another try is building %s; waiting for it to finish", final)
            fcntl.flock(lock, fcntl.LOCK_EX)
        # Checked again under the lock: another try may have built it while we waited.
        if (final / READY_MARKER).is_file():
            log.info("Reusing the Python virtual environment another try just built: %s", final)
            return final
        if final.exists():  # no marker: left by something other than a finished build
            shutil.rmtree(final)
        # Builds of this key killed midway (we hold its lock: none is running now).
        for leftover in cache_dir.glob(f".building-{key}-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        building = Path(tempfile.mkdtemp(prefix=f".building-{key}-", dir=cache_dir))
        try:
            _build(
                building,
                interpreter,
                requirements,
                system_site_packages,
                pip_install_options,
                index_urls,
                run,
            )
            (building / READY_MARKER).write_text(description)
            building.rename(final)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    log.info("Created the Python virtual environment %s", final)
    return final


def _build(
    path: Path,
    interpreter: str,
    requirements: Sequence[str],
    system_site_packages: bool,
    pip_install_options: Sequence[str],
    index_urls: Sequence[str] | None,
    run: Callable[[list[str]], tuple[int, str]],
) -> None:
    create = [interpreter, "-m", "venv"]
    if system_site_packages:
        create.append("--system-site-packages")
    if not requirements:
        create.append("--without-pip")  # nothing to install: skip the slow pip bootstrap
    create.append(str(path))
    code, output = run(create)
    if code != 0:
        raise AirflowException(
            f"Could not create a virtual environment with {interpreter} (exit code {code}):\n"
            + _tail(output)
        )
    if not requirements:
        return
    requirements_file = path / "requirements.txt"
    requirements_file.write_text("\n".join(requirements) + "\n")
    install = [str(path / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    if index_urls:
        install += ["--index-url", index_urls[0]]
        for url in index_urls[1:]:
            install += ["--extra-index-url", url]
    install += [*pip_install_options, "-r", str(requirements_file)]
    code, output = run(install)
    if code != 0:
        raise AirflowException(
            f"Could not install the requirements {list(requirements)} into a virtual "
            f"environment: pip exited with code {code}:\n{_tail(output)}"
        )


def _tail(output: str) -> str:
    return "\n".join(output.rstrip().splitlines()[-PIP_OUTPUT_TAIL:])
