"""Writing DAG files for processor tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

HEADER = "from datetime import datetime\nfrom dagruns.sdk import DAG, EmptyOperator\n"


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip("\n"))
    return path


def simple_dag(dag_id: str, tasks: int = 2, extra: str = "", tags: str = "[]") -> str:
    """A DAG file text: a chain of `tasks` EmptyOperators."""
    lines = [
        HEADER,
        f"with DAG(dag_id={dag_id!r}, schedule=None, start_date=datetime(2024, 1, 1), "
        f"tags={tags}) as dag:",
        "    previous = None",
        f"    for i in range({tasks}):",
        "        current = EmptyOperator(task_id=f't{i}')",
        "        if previous is not None:",
        "            previous >> current",
        "        previous = current",
        extra,
    ]
    return "\n".join(lines) + "\n"
