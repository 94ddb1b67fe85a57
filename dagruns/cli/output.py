"""Printing CLI results in Airflow's `-o json|table|plain` shapes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

FORMATS = ("table", "json", "plain")


def add_output_argument(parser) -> None:
    parser.add_argument(
        "-o", "--output", choices=FORMATS, default="table", help="Output format (default table)."
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    return str(value).replace("\n", " ")


def render(rows: Sequence[dict[str, Any]], columns: Sequence[str], output: str) -> str:
    """`rows` keyed by Airflow's field names; `columns` chooses and orders them."""
    if output == "json":
        return json.dumps(
            [{c: row.get(c) for c in columns} for row in rows],
            indent=2,
            default=_json_default,
            ensure_ascii=False,
        )
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    if output == "plain":
        return "\n".join("\t".join(line) for line in cells)
    if not rows:
        return "No data found"
    widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]
    head = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "=+=".join("=" * w for w in widths)
    body = [" | ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join([head, rule, *body])
