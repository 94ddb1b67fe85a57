"""A server-rendered SVG bar chart of durations, one bar per run, oldest on the left: the time
spent queued (hatched) under the time spent running (the state's colour), as Airflow 3's run
duration chart stacks "queued duration" under "run duration". Used for a DAG's runs and for
one task across runs.

The geometry is computed here (a fixed viewBox the SVG scales to its box); the template only
draws it. Each bar carries its state as a glyph above it and in its title, never as colour
alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dagruns.ui import format as fmt
from dagruns.ui.grid_labels import duration_ticks, short_date, tip

WIDTH = 1000
HEIGHT = 230
LEFT = 78  # room for the duration labels
RIGHT = 10
TOP = 22  # room for the state glyphs
BOTTOM = 64  # room for the dates, written upwards
MAX_BAR = 40

# The glyphs the stylesheet draws in grid cells (static/orchestrator.css, "State is never
# told by colour alone"), for SVG text, which CSS `content` cannot fill.
GLYPHS = {
    "success": "✓",
    "failed": "✕",
    "running": "▶",
    "queued": "Q",
    "scheduled": "S",
    "up_for_retry": "↻",
    "up_for_reschedule": "W",
    "deferred": "D",
    "skipped": "»",
    "upstream_failed": "!",
    "removed": "–",
    "restarting": "R",
}


@dataclass(frozen=True)
class Span:
    """What one bar shows: a run, or a task's instance in one run."""

    run_id: str
    when: datetime | None  # the run's run_after, written under the bar
    state: str
    queued: datetime | None
    start: datetime | None
    end: datetime | None
    url: str
    label: str = ""  # first tooltip line (the run id when empty)


@dataclass(frozen=True)
class Bar:
    span: Span
    x: float
    width: float
    queued_y: float
    queued_h: float
    run_y: float
    run_h: float
    queued_s: float | None
    running_s: float | None

    @property
    def glyph(self) -> str:
        return GLYPHS.get(self.span.state, "")

    @property
    def center(self) -> float:
        return self.x + self.width / 2

    @property
    def glyph_y(self) -> float:
        """Just above the bar's top (the running part sits on the queued part)."""
        return (self.run_y if self.run_h else self.queued_y) - 5

    @property
    def date(self) -> str:
        return short_date(self.span.when) if self.span.when else ""

    @property
    def title(self) -> str:
        total = (self.queued_s or 0) + (self.running_s or 0)
        return tip(
            [
                ("", self.span.label or self.span.run_id),
                ("State", self.span.state),
                ("Run after", fmt.when(self.span.when)),
                ("Queued", fmt.duration(self.queued_s)),
                ("Running", fmt.duration(self.running_s)),
                ("Total", fmt.duration(total) if self.queued_s or self.running_s else ""),
            ]
        )


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    ticks: list[Tick]
    longest: float | None
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM
    date_y: float = HEIGHT - BOTTOM + 6


def phases(span: Span, now: datetime) -> tuple[float | None, float | None]:
    """(queued seconds, running seconds): queued until it started (or until now while it
    waits), running until it ended (or until now while it runs)."""
    queued = fmt.between(span.queued, span.start or (now if span.queued else None))
    running = fmt.between(span.start, span.end or (now if span.start else None))
    return queued, running


def build_chart(spans: list[Span], now: datetime) -> Chart:
    timed = [(span, *phases(span, now)) for span in spans]
    longest = max(((q or 0) + (r or 0) for _s, q, r in timed), default=0.0) or None
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(spans), 1)
    width = min(MAX_BAR, slot * 0.7)
    bars = []
    for i, (span, queued, running) in enumerate(timed):
        scale = plot_h / longest if longest else 0.0
        run_h = (running or 0) * scale
        queued_h = (queued or 0) * scale
        base = HEIGHT - BOTTOM
        bars.append(
            Bar(
                span=span,
                x=round(LEFT + i * slot + (slot - width) / 2, 1),
                width=round(width, 1),
                queued_y=round(base - queued_h, 1),
                queued_h=round(queued_h, 1),
                run_y=round(base - queued_h - run_h, 1),
                run_h=round(run_h, 1),
                queued_s=queued,
                running_s=running,
            )
        )
    ticks = [
        Tick(y=round(HEIGHT - BOTTOM - plot_h * t.percent / 100, 1), label=t.label)
        for t in duration_ticks(longest)
    ]
    return Chart(bars=bars, ticks=ticks, longest=longest)
