"""Log lines as HTML: coloured by level, tracebacks shown as errors, groups folded.

One pass over the lines of one chunk (a page of at most 256 KB, or the bytes a tail fetched),
so styling costs no more memory than the chunk itself. Every line of the file becomes exactly
one `.l` element, so the CSS line counter keeps matching the file's line numbers; a folded
block (a closed <details>) adds the lines it hides to the counter itself (`--n`, see the CSS).

- Level: the runner's lines are `[date] {file:line} LEVEL - message`
  (scheduler/runner/task_process.py LOG_FORMAT, Airflow's format).
- Tracebacks: from `Traceback (most recent call last):` through the exception line, chained
  tracebacks ("During handling of the above exception…") included, are ERROR lines. One
  longer than TRACEBACK_FOLD_LINES folds its frames, leaving header and exception visible.
- Groups: `::group::name` … `::endgroup::` (a line of their own, or the message of a log line)
  fold as in Airflow 3's log view; a group is shown closed unless an error is inside. A chunk
  closes the groups still open at its end (a page must be balanced HTML); an `::endgroup::`
  whose start is in another chunk is shown as is.
- Times: a line's leading `[YYYY-MM-DD HH:MM:SS,mmm]` (written in UTC by the runner and the
  supervisor) is shown in the viewer's zone with its abbreviation, as a `<time>` holding the UTC
  moment, like every other date of the dashboard. The file itself and its download keep UTC
  (the search matches the file's text: dagruns/views/logs.py found_html).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from django.utils.html import escape

from dagruns.ui import format as fmt

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LEVEL_RE = re.compile(r"^\[[^\]]*\] \{[^}]*\} (DEBUG|INFO|WARNING|ERROR|CRITICAL) - ")
TRACEBACK_START = "Traceback (most recent call last):"
CHAIN_LINES = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
STAMP_RE = re.compile(r"\[(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3})\]")
GROUP_START = "::group::"
GROUP_END = "::endgroup::"
TRACEBACK_FOLD_LINES = 12


def line_level(line: str) -> str | None:
    """The level of a formatted log line (`ERROR`), or None for any other line."""
    match = LEVEL_RE.match(line)
    return match.group(1) if match else None


def message(line: str) -> str:
    """The message of a formatted log line (what follows `LEVEL - `), else the whole line,
    stripped: where a `::group::` marker is looked for (a task's print() or a subprocess's
    output reaches the log as the message of an INFO line)."""
    match = LEVEL_RE.match(line)
    return (line[match.end() :] if match else line).strip()


def classify(lines: list[str]) -> list[str | None]:
    """Each line's level: its own, or ERROR inside a traceback, or None."""
    levels: list[str | None] = []
    # "out": no traceback; "frames": inside one; "after": just past its exception line,
    # where a blank line or a chaining sentence continues it.
    mode = "out"
    for line in lines:
        level = line_level(line)
        if line.startswith(TRACEBACK_START):
            mode = "frames"
            level = "ERROR"
        elif mode == "frames" and level is None:
            if not line[:1].isspace() and line.strip():
                mode = "after"  # the exception line ends the frames
            level = "ERROR"
        elif mode == "after" and level is None and (not line.strip() or line in CHAIN_LINES):
            level = "ERROR"
        elif level is None and line.startswith("  File ") and '", line ' in line:
            level = "ERROR"  # a traceback whose start is in an earlier chunk
            mode = "frames"
        else:
            mode = "out"
        levels.append(level)
    return levels


@dataclass
class _Block:
    """A fold being built: its opening line and the HTML of what it holds."""

    head: str
    kind: str  # "group" or "traceback"
    parts: list[str] = field(default_factory=list)
    lines: int = 0
    has_error: bool = False


def stamped(text: str, zone: tzinfo) -> str:
    """A line as HTML (escaped), its leading UTC stamp shown in `zone`: `[<time
    datetime="2026-11-30T00:33:18Z">2026-11-30 01:33:18,123 CET</time>] …`. A stamp that is
    no real date is left as written."""
    match = STAMP_RE.match(text)
    if match is None:
        return escape(text)
    year, month, day, hour, minute, second = (int(p) for p in match.groups()[:6])
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return escape(text)
    shown = fmt.local(moment, zone)
    stamp = (
        f'[<time datetime="{fmt.iso_utc(moment)}">{shown.strftime(fmt.DATE_TIME)},'
        f"{match.group(7)} {escape(fmt.abbreviation(shown))}</time>]"
    )
    return stamp + escape(text[match.end() :])


def _line_html(text: str, level: str | None, zone: tzinfo, extra: str = "") -> str:
    css = "l" + (f" lv-{level.lower()}" if level else "") + extra
    return f'<div class="{css}">{stamped(text, zone)}</div>'


def _fold_html(block: _Block) -> str:
    opened = " open" if block.kind == "group" and block.has_error else ""
    hidden = f' <span class="lg-count">· {block.lines} lines</span></div>'
    summary = block.head.replace('class="l', 'class="l lg-head', 1).removesuffix("</div>") + hidden
    return (
        f'<details class="lg lg-{block.kind}" data-style="--n: {block.lines}"{opened}>'
        f"<summary>{summary}</summary>{''.join(block.parts)}</details>"
    )


def _traceback_ends(levels: list[str | None], lines: list[str]) -> dict[int, int]:
    """Start index → index of the exception line, for tracebacks worth folding that lie
    wholly in this chunk and contain no group marker."""
    ends: dict[int, int] = {}
    i = 0
    while i < len(lines):
        if lines[i].startswith(TRACEBACK_START):
            j = i + 1
            while j < len(lines) and levels[j] == "ERROR" and lines[j][:1].isspace():
                j += 1
            inner = lines[i + 1 : j]
            if (
                j < len(lines)
                and levels[j] == "ERROR"
                and j - i - 1 > TRACEBACK_FOLD_LINES
                and not any(message(x).startswith((GROUP_START, GROUP_END)) for x in inner)
            ):
                ends[i] = j
            i = j
        else:
            i += 1
    return ends


def render(lines: list[str], zone: tzinfo | None = None) -> str:
    """The HTML of `lines` (without their newlines), times in `zone` (default: the viewer's)."""
    zone = zone if zone is not None else fmt.viewer_zone()
    levels = classify(lines)
    tb_ends = _traceback_ends(levels, lines)
    out: list[str] = []
    stack: list[_Block] = []
    tb_end: int | None = None

    def emit(html: str, level: str | None) -> None:
        if stack:
            stack[-1].parts.append(html)
            stack[-1].lines += 1
            for block in stack:
                block.has_error = block.has_error or level in ("ERROR", "CRITICAL")
        else:
            out.append(html)

    def close() -> None:
        block = stack.pop()
        html = _fold_html(block)
        if stack:
            stack[-1].parts.append(html)
            stack[-1].lines += block.lines + 1
            stack[-1].has_error = stack[-1].has_error or block.has_error
        else:
            out.append(html)

    for index, (text, level) in enumerate(zip(lines, levels, strict=True)):
        if tb_end is not None and index == tb_end:
            close()
            tb_end = None
        stripped = message(text)
        if stripped.startswith(GROUP_START) and tb_end is None:
            name = stripped[len(GROUP_START) :].strip() or "group"
            head = f'<div class="l">{escape(name)}</div>'
            stack.append(_Block(head=head, kind="group"))
        elif stripped == GROUP_END and stack and stack[-1].kind == "group":
            close()
            emit(_line_html(text, None, zone, " lg-end"), None)
        elif index in tb_ends:
            stack.append(
                _Block(head=_line_html(text, level, zone), kind="traceback", has_error=True)
            )
            tb_end = tb_ends[index]
        else:
            emit(_line_html(text, level, zone), level)
    while stack:
        close()
    return "".join(out)
