"""The words the grid shows beside its colours: each cell's and run bar's tooltip and
accessible name, the dates under the run bars and the run-duration axis.

A state is never told by colour alone: the cell's accessible name says it, its tooltip says
it, and the stylesheet draws a glyph per state inside the cell (and in the legend)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from dagruns.ui import format as fmt


def short_date(value: datetime, zone: tzinfo | None = None) -> str:
    """Under a run bar there is room for month-day and minutes (in the viewer's zone); the
    tooltip has the rest."""
    return fmt.local(value, zone).strftime("%m-%d %H:%M")


def tip(lines: list[tuple[str, str]]) -> str:
    """Tooltip text: one `name: value` line each, empty values left out (unescaped)."""
    return "\n".join(f"{name}: {value}" if name else value for name, value in lines if value)


def ti_tip(
    task_id: str,
    state: str | None,
    try_number: int,
    start: datetime | None,
    end: datetime | None,
    duration: float | None,
    zone: tzinfo | None = None,
) -> str:
    """A task instance's tooltip: what `tip` makes of its lines, built directly (the grid
    asks for 12,500 of them). `zone`: the viewer's, fetched once by a caller building many."""
    text = f"{task_id}\nState: {state or 'no status'}"
    if try_number:
        text += f"\nTry: {try_number}"
    if start is not None:
        text += f"\nStart: {fmt.when(start, zone)}"
    if end is not None:
        text += f"\nEnd: {fmt.when(end, zone)}"
    if duration is not None:
        text += f"\nDuration: {fmt.duration(duration)}"
    return text


@dataclass(frozen=True)
class Tick:
    label: str
    percent: int  # height above the bars' baseline, in % of the tallest bar


def duration_ticks(longest: float | None) -> list[Tick]:
    """Three labelled ticks of the run-duration axis: zero, half and the longest run (the
    bars' heights are % of the longest, so the ticks line up with them)."""
    if not longest:
        return []
    return [
        Tick("0", 0),
        Tick(fmt.duration(longest / 2), 50),
        Tick(fmt.duration(longest), 100),
    ]
