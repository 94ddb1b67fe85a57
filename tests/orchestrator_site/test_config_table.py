"""README's configuration table is the declaration in orchestrator_site/config.py, row for row."""

from __future__ import annotations

from pathlib import Path

from orchestrator_site.config import OrchSettings, env_name
from orchestrator_site.config_table import HEADER, shown_default, table

README = Path(__file__).resolve().parents[2] / "README.md"
REGENERATE = "regenerate it with `python -m orchestrator_site.config_table`"


def readme_table(text: str) -> str:
    start = text.index(HEADER)
    lines = []
    for line in text[start:].splitlines():
        if not line.startswith("|"):
            break
        lines.append(line)
    return "\n".join(lines)


def rows(markdown: str) -> dict[str, str]:
    """variable -> default column, from a table in README's format."""
    found = {}
    for line in markdown.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        found[cells[0].strip("`")] = cells[1]
    return found


def declared_defaults() -> dict[str, str]:
    return {
        env_name(name): shown_default(field) for name, field in OrchSettings.model_fields.items()
    }


def test_every_declared_setting_has_a_row_in_readme():
    missing = set(declared_defaults()) - set(rows(readme_table(README.read_text())))
    assert not missing, f"README's configuration table lacks {sorted(missing)}: {REGENERATE}"


def test_readme_names_no_setting_that_is_not_declared():
    extra = set(rows(readme_table(README.read_text()))) - set(declared_defaults())
    assert not extra, f"README's table names undeclared settings {sorted(extra)}"


def test_readme_shows_the_declared_defaults():
    in_readme = rows(readme_table(README.read_text()))
    wrong = {
        name: (in_readme[name], default)
        for name, default in declared_defaults().items()
        if name in in_readme and in_readme[name] != default
    }
    assert not wrong, f"README default differs (readme, declared): {wrong}; {REGENERATE}"


def test_readme_table_is_exactly_the_generated_one():
    assert readme_table(README.read_text()) == table(), REGENERATE


def test_the_check_notices_a_missing_row_and_a_changed_default():
    generated = table()
    without_parallelism = "\n".join(
        line for line in generated.splitlines() if "`ORCH_PARALLELISM`" not in line
    )
    assert "ORCH_PARALLELISM" not in rows(without_parallelism)
    changed = generated.replace("| `ORCH_PARALLELISM` | `32` |", "| `ORCH_PARALLELISM` | `16` |")
    assert rows(changed)["ORCH_PARALLELISM"] != declared_defaults()["ORCH_PARALLELISM"]


def test_defaults_are_spelt_as_the_environment_takes_them():
    defaults = declared_defaults()
    assert defaults["ORCH_PARALLELISM"] == "`32`"
    assert defaults["ORCH_DAG_FILE_PROCESSOR_TIMEOUT"] == "`30`"
    assert defaults["ORCH_DAGS_ARE_PAUSED_AT_CREATION"] == "`true`"
    assert defaults["ORCH_ALLOWED_HOSTS"] == "`*`"
    assert defaults["ORCH_CSRF_TRUSTED_ORIGINS"] == "empty"
    assert defaults["ORCH_DAGS_FOLDER"] == "`$ORCH_HOME/dags`"
