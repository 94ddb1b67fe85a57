"""The difference between two stored versions of a DAG, for the code view: the source as a
unified diff (Python's difflib) highlighted line by line with the code view's Pygments
classes, and the structure — tasks and edges added or removed, tasks whose operator class
or trigger rule changed. Airflow has no such view; its data is the DAG versions it keeps."""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass, field
from typing import Any

from pygments.lexers import PythonLexer
from pygments.token import STANDARD_TYPES, _TokenType

CONTEXT_LINES = 3
# difflib is fine on a few thousand lines; far beyond, the page would be slow to build and
# useless to read, so it says so instead.
MAX_DIFF_LINES = 20_000
# What a "changed" task means here: serialized key, what the page calls it, and the value a
# missing key stands for (a serialized task may leave out a default, as Airflow's does).
COMPARED_FIELDS = (("task_type", "operator", ""), ("trigger_rule", "trigger rule", "all_success"))


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same" | "removed" | "added"
    old_number: int | None
    new_number: int | None
    html: str  # highlighted, escaped


@dataclass(frozen=True)
class Hunk:
    header: str  # "@@ -12,7 +12,9 @@", as a unified diff
    lines: list[DiffLine]


@dataclass(frozen=True)
class SourceDiff:
    hunks: list[Hunk]
    added: int
    removed: int
    too_large: str = ""  # why no diff was computed


@dataclass(frozen=True)
class TaskChange:
    task_id: str
    what: str
    old: str
    new: str


@dataclass
class StructureDiff:
    added_tasks: list[str] = field(default_factory=list)
    removed_tasks: list[str] = field(default_factory=list)
    changed_tasks: list[TaskChange] = field(default_factory=list)
    added_edges: list[tuple[str, str]] = field(default_factory=list)
    removed_edges: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.added_tasks
            or self.removed_tasks
            or self.changed_tasks
            or self.added_edges
            or self.removed_edges
        )


def _css_class(ttype: _TokenType) -> str:
    """The class Pygments' HtmlFormatter gives a token (the code view's stylesheet)."""
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    return STANDARD_TYPES[ttype]


def highlighted_lines(source: str, upto: int | None = None) -> list[str]:
    """Each line of the source as highlighted HTML. Lexed from the top (a docstring spanning
    lines stays a string) and cut at newlines, so every line's markup is balanced. `upto`:
    the lines after it are not needed, so lexing (the slow part) stops there."""
    lines: list[list[str]] = [[]]
    for ttype, value in PythonLexer().get_tokens(source):
        if upto is not None and len(lines) > upto + 1:
            break
        cls = _css_class(ttype)
        for i, part in enumerate(value.split("\n")):
            if i:
                lines.append([])
            if part:
                text = html.escape(part, quote=False)
                lines[-1].append(f'<span class="{cls}">{text}</span>' if cls else text)
    return ["".join(parts) for parts in lines[: len(source.splitlines())]]


def source_diff(old: str, new: str) -> SourceDiff:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    longest = max(len(old_lines), len(new_lines))
    if longest > MAX_DIFF_LINES:
        return SourceDiff(
            [], 0, 0, f"{longest} lines: too large to compare here (limit {MAX_DIFF_LINES})"
        )
    groups = list(
        difflib.SequenceMatcher(None, old_lines, new_lines).get_grouped_opcodes(CONTEXT_LINES)
    )
    if not groups:
        return SourceDiff([], 0, 0)
    old_html = highlighted_lines(old, upto=groups[-1][-1][2])
    new_html = highlighted_lines(new, upto=groups[-1][-1][4])
    hunks: list[Hunk] = []
    added = removed = 0
    for group in groups:
        lines: list[DiffLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(
                    DiffLine("same", i + 1, j + 1, new_html[j])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
                continue
            lines.extend(DiffLine("removed", i + 1, None, old_html[i]) for i in range(i1, i2))
            lines.extend(DiffLine("added", None, j + 1, new_html[j]) for j in range(j1, j2))
            removed += i2 - i1
            added += j2 - j1
        first, last = group[0], group[-1]
        header = f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@"
        hunks.append(Hunk(header, lines))
    return SourceDiff(hunks, added, removed)


def _tasks(serialized: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["task_id"]: t for t in serialized.get("tasks") or ()}


def _edges(tasks: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    return {(t, d) for t, task in tasks.items() for d in task.get("downstream_task_ids") or ()}


def structure_diff(old: dict[str, Any], new: dict[str, Any]) -> StructureDiff:
    """Tasks in topological order of the version that has them; edges sorted."""
    old_tasks, new_tasks = _tasks(old), _tasks(new)
    diff = StructureDiff(
        added_tasks=[t for t in new_tasks if t not in old_tasks],
        removed_tasks=[t for t in old_tasks if t not in new_tasks],
    )
    for task_id, task in new_tasks.items():
        before = old_tasks.get(task_id)
        if before is None:
            continue
        for key, what, default in COMPARED_FIELDS:
            a, b = str(before.get(key) or default), str(task.get(key) or default)
            if a != b:
                diff.changed_tasks.append(TaskChange(task_id, what, a, b))
    old_edges, new_edges = _edges(old_tasks), _edges(new_tasks)
    diff.added_edges = sorted(new_edges - old_edges)
    diff.removed_edges = sorted(old_edges - new_edges)
    return diff
