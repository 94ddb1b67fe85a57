"""A small reader of deploy/Dockerfile's instructions (no Docker engine here to build it)."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, COPY, RUN...
    value: str  # the rest of the (joined) line

    def words(self) -> list[str]:
        """Exec form (a JSON list) as given; shell form split as a shell would."""
        if self.value.startswith("["):
            return list(json.loads(self.value))
        return shlex.split(self.value)


def instructions(path: Path) -> list[Instruction]:
    """The instructions, with `\\` continuations joined and comment lines dropped (comment
    lines inside a continued instruction are dropped too, as Docker does)."""
    found: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, value = line.partition(" ")
        found.append(Instruction(keyword.upper(), value.strip()))
    assert not pending, f"{path}: the last instruction ends with a continuation"
    return found


def copy_sources(instruction: Instruction) -> tuple[list[str], str]:
    """COPY's sources and destination, its --flags left out."""
    words = [word for word in instruction.words() if not word.startswith("--")]
    return words[:-1], words[-1]
