"""Every setting the code reads (or names) is declared in orchestrator_site/config.py.

Scans the source: `settings.ORCH.<name>` reads and writes must be declared fields, nothing
reads settings.ORCH by key any more, and every `ORCH_*` name written anywhere in the code,
its templates or the docs (environment reads, variables handed to child processes, messages)
is a declared environment variable.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from orchestrator_site.config import PREFIX, OrchSettings, env_name

ROOT = Path(__file__).resolve().parents[2]
CODE = ["dagruns", "scheduler", "orchestrator_site"]
ENV_NAME = re.compile(r"\bORCH_[A-Z][A-Z0-9_]*\b")


def python_files() -> list[Path]:
    files = [ROOT / "manage.py"]
    for package in CODE:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def is_orch(node: ast.AST) -> bool:
    """`settings.ORCH` (any `<x>.ORCH`), or the bare `ORCH` inside settings.py."""
    if isinstance(node, ast.Attribute):
        return node.attr == "ORCH"
    return isinstance(node, ast.Name) and node.id == "ORCH"


def is_read_by_key(node: ast.AST) -> bool:
    """`settings.ORCH["X"]` or `getattr(settings.ORCH, "x")`: invisible to a type checker."""
    if isinstance(node, ast.Subscript):
        return is_orch(node.value)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"getattr", "setattr", "hasattr"}
        and bool(node.args)
        and is_orch(node.args[0])
    )


def orch_uses(tree: ast.AST) -> tuple[set[str], list[int]]:
    """The attribute names read or set on settings.ORCH, and lines reading it another way."""
    names: set[str] = set()
    by_key: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_orch(node.value):
            names.add(node.attr)
        elif is_read_by_key(node):
            by_key.append(node.lineno)
    return names, by_key


def test_every_settings_orch_attribute_the_code_uses_is_declared():
    # Fields, and the typed views OrchSettings derives from them (`executors`).
    derived = {name for name, value in vars(OrchSettings).items() if isinstance(value, property)}
    declared = set(OrchSettings.model_fields) | derived
    unknown: dict[str, set[str]] = {}
    by_key: dict[str, list[int]] = {}
    for path in python_files():
        names, lines = orch_uses(ast.parse(path.read_text(), str(path)))
        # pydantic's own methods (model_copy, model_fields...) are not settings.
        names = {name for name in names if not name.startswith("model_")}
        if names - declared:
            unknown[str(path.relative_to(ROOT))] = names - declared
        if lines:
            by_key[str(path.relative_to(ROOT))] = lines
    assert not unknown, f"settings.ORCH reads of undeclared settings: {unknown}"
    assert not by_key, f"settings.ORCH read by key or getattr (use an attribute): {by_key}"


def test_every_orch_environment_variable_named_in_code_or_docs_is_declared():
    declared = {env_name(name) for name in OrchSettings.model_fields}
    texts = python_files()
    for package in CODE:
        texts += sorted((ROOT / package).rglob("*.html"))
    texts += [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    unknown: dict[str, set[str]] = {}
    for path in texts:
        names = set(ENV_NAME.findall(path.read_text())) - declared
        if names:
            unknown[str(path.relative_to(ROOT))] = names
    assert not unknown, (
        f"ORCH_ variables that orchestrator_site/config.py does not declare: {unknown}"
    )


def test_the_scan_sees_reads_by_attribute_by_key_and_through_get():
    tree = ast.parse(
        "from django.conf import settings\n"
        "a = settings.ORCH.parallelism\n"
        "b = settings.ORCH['PARALLELISM']\n"
        "c = getattr(settings.ORCH, 'x')\n"
        "settings.ORCH.api_url = 'u'\n"
        "d = settings.ORCH.get('NOPE')\n"
    )
    names, by_key = orch_uses(tree)
    assert names == {"parallelism", "api_url", "get"}
    assert by_key == [3, 4]
    assert "get" not in OrchSettings.model_fields


def test_environment_names_follow_the_prefix():
    assert env_name("parallelism") == PREFIX + "PARALLELISM" == "ORCH_PARALLELISM"
