"""Finding DAG files and noticing which ones changed (pure Python, no database).

Two ignore files, each applying to its own folder and everything below it:
- `.airflowignore`, exactly as Airflow reads it, in the syntax of ORCH_DAG_IGNORE_FILE_SYNTAX
  (Airflow's `[core] dag_ignore_file_syntax`; `glob`, Airflow 3's default, or `regexp`); see
  `airflowignore.py`;
- `.dagignore`, ours, always in gitignore syntax relative to its own folder.
A path either of them ignores is not parsed. Only `.py` files are considered; whether a file
"mentions a DAG" is decided after reading it, so unchanged files are never read at all.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from scheduler.processor.airflowignore import AirflowIgnore

IGNORE_FILE_NAME = ".dagignore"
# Airflow's "safe mode" heuristic: a file that never says "dag" cannot define one, and importing
# every helper module in the folder would run code nobody asked to run.
_MENTIONS_DAG = re.compile(rb"dag", re.IGNORECASE)


@dataclass(frozen=True)
class FileStat:
    """What a cheap stat() tells about a file: enough to decide whether to read it again."""

    path: str
    mtime: float
    size: int


def _ignore_spec(folder: Path) -> pathspec.PathSpec | None:
    ignore_file = folder / IGNORE_FILE_NAME
    try:
        lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.PathSpec.from_lines("gitignore", lines)


def list_py_files(root: Path, ignore_file_syntax: str = "glob") -> Iterator[Path]:
    """Every `.py` file below `root` that no `.dagignore` or `.airflowignore` on its way
    excludes, in sorted order so that processing (and therefore "who defined this dag_id
    first") is deterministic."""
    yield from _walk(root, [], AirflowIgnore.start(root, ignore_file_syntax))


def _walk(
    folder: Path, specs: list[tuple[Path, pathspec.PathSpec]], airflow_rules: AirflowIgnore
) -> Iterator[Path]:
    own = _ignore_spec(folder)
    if own is not None:
        specs = [*specs, (folder, own)]
    airflow_rules = airflow_rules.entering(folder)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        path = Path(entry.path)
        is_dir = entry.is_dir(follow_symlinks=True)
        if _ignored(path, is_dir, specs) or airflow_rules.ignores(path, is_dir):
            continue
        if is_dir:
            yield from _walk(path, specs, airflow_rules)
        elif entry.name.endswith(".py") and entry.is_file(follow_symlinks=True):
            yield path


def _ignored(path: Path, is_dir: bool, specs: list[tuple[Path, pathspec.PathSpec]]) -> bool:
    for base, spec in specs:
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        if spec.match_file(relative):
            return True
    return False


def stat_file(path: Path) -> FileStat | None:
    """None when the file vanished between listing and stat (it is then simply gone)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return FileStat(path=str(path), mtime=st.st_mtime, size=st.st_size)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def mentions_dag(data: bytes) -> bool:
    return _MENTIONS_DAG.search(data) is not None
