"""README's configuration table, written from the declaration in `config.py`.

`python -m orchestrator_site.config_table` prints it; a test fails when README's copy differs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from orchestrator_site.config import OrchSettings, env_name

HEADER = "| variable | default | meaning |\n|---|---|---|"


def shown_default(field: FieldInfo) -> str:
    """The default as README writes it: the declared text for derived defaults, else the
    value spelt the way the environment variable would be."""
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "shown_default" in extra:
        return str(extra["shown_default"])
    spelt = spell(field.default)
    return f"`{spelt}`" if spelt else "empty"


def spell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, Path):
        return str(value)
    return "" if value is None else str(value)


def table() -> str:
    rows = [
        f"| `{env_name(name)}` | {shown_default(field)} | {field.description} |"
        for name, field in OrchSettings.model_fields.items()
    ]
    return "\n".join([HEADER, *rows])


if __name__ == "__main__":
    print(table())
