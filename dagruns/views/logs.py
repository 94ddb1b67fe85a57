"""Task logs in pages: a page is at most PAGE_BYTES ending on a line boundary, so a 50 MB log
costs the browser one page at a time. The running try's last page tails: each "log" event
fetches only the bytes after the page's end offset. Line numbers are CSS counters started at
each chunk's first line (copying a log copies no numbers)."""

from __future__ import annotations

import re
from datetime import tzinfo
from pathlib import Path
from typing import overload

from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe

from dagruns.actions.mapped import MapIndexError, get_mapped_ti_or_raise
from dagruns.domain import logs
from dagruns.models import TaskInstance, TaskInstanceHistory
from dagruns.models.states import TaskInstanceState as TIS
from dagruns.ui import format as fmt
from dagruns.ui import log_lines
from dagruns.ui.urls import ti_url, with_query
from dagruns.views.access import get_run, viewer_required

# A try in one of these may still write to its log.
LOG_STILL_GROWING = (TIS.RUNNING, TIS.QUEUED, TIS.DEFERRED, TIS.UP_FOR_RESCHEDULE)
PAGE_BYTES = 256 * 1024
COUNT_BLOCK = 1024 * 1024
MAX_MATCHES = 1000


def count_lines(path: Path, upto: int) -> int:
    """Newlines in the first `upto` bytes (C-speed counting in 1 MiB blocks)."""
    total = 0
    with path.open("rb") as handle:
        left = upto
        while left > 0:
            block = handle.read(min(COUNT_BLOCK, left))
            if not block:
                break
            total += block.count(b"\n")
            left -= len(block)
    return total


def line_start_before(path: Path, offset: int) -> int:
    """The start of a page that ends at `offset`: PAGE_BYTES back, moved to a line start."""
    start = max(0, offset - PAGE_BYTES)
    if start == 0:
        return 0
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read(offset - start)
    cut = data.find(b"\n")
    return start + cut + 1 if cut >= 0 else start


def lines_html(text: str) -> str:
    """Each line escaped in its `.l`, coloured by level, tracebacks and groups folded."""
    if not text:
        return ""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return log_lines.render(lines)


def page(path: Path, offset: int, line: int | None) -> dict:
    chunk = logs.read_log(path, offset, PAGE_BYTES)
    first_line = line if line is not None else count_lines(path, chunk.offset) + 1
    return {
        "html": mark_safe(lines_html(chunk.content)),  # each line escape()d
        "offset": chunk.offset,
        "next_offset": chunk.next_offset,
        "first_line": first_line,
        "next_line": first_line + chunk.content.count("\n"),
        "size": chunk.size,
        "size_text": fmt.size(chunk.size),
        "eof": chunk.eof,
        "empty": chunk.size == 0,
    }


def log_context(
    ti: TaskInstance,
    try_number: int,
    url: str,
    *,
    offset: int | None = None,
    line: int | None = None,
) -> dict:
    """The page to show first: the whole log when small, else its last page."""
    path = logs.ti_log_path(ti, try_number)
    size = logs.log_size(path)
    if offset is None:
        offset = line_start_before(path, size) if size > PAGE_BYTES else 0
        line = 1 if offset == 0 else None
    shown = page(path, offset, line)
    base = f"{url}/logs/{try_number}"
    shown.update(
        {
            "try_number": try_number,
            "base_url": base,
            "download_url": f"{base}/download",
            "head_url": with_query(base, mode="head"),
            "is_live": ti.try_number == try_number and ti.state in LOG_STILL_GROWING,
            "first_url": with_query(base, offset=0, line=1) if shown["offset"] > 0 else "",
            "prev_url": with_query(base, before=shown["offset"]) if shown["offset"] > 0 else "",
            "next_url": with_query(base, offset=shown["next_offset"], line=shown["next_line"])
            if not shown["eof"]
            else "",
            "last_url": with_query(base, last=1) if not shown["eof"] else "",
            "tail_url": with_query(
                base, mode="tail", offset=shown["next_offset"], line=shown["next_line"]
            ),
            "ti": ti,
        }
    )
    return shown


def head_context(ti: TaskInstance, try_number: int, url: str) -> dict:
    """The header of the log's last page as it is now, and the try's state for its tab."""
    if try_number == ti.try_number:
        state = ti.state
    else:
        state = (
            TaskInstanceHistory.objects.filter(task_instance=ti, try_number=try_number)
            .values_list("state", flat=True)
            .first()
        )
    return {"log": log_context(ti, try_number, url), "oob_swatch": state or "none"}


def _ti(dag_id: str, run_id: str, task_id: str, map_index: int | None = None) -> TaskInstance:
    run = get_run(dag_id, run_id)
    try:
        return get_mapped_ti_or_raise(run, task_id, map_index)
    except MapIndexError as exc:
        raise Http404(str(exc)) from None


@overload
def _int(value: str | None, default: int) -> int: ...
@overload
def _int(value: str | None, default: None = None) -> int | None: ...
def _int(value: str | None, default: int | None = None) -> int | None:
    if value in (None, ""):
        return default
    try:
        return max(0, int(value))
    except ValueError:
        raise Http404("bad number") from None


@viewer_required
def log_page(
    request, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int | None = None
):
    """A page (`offset`/`line`, `before`, `last`), new lines to tail (`mode=tail`), or a
    search of the whole file (`q`)."""
    ti = _ti(dag_id, run_id, task_id, map_index)
    url = ti_url(dag_id, ti.run_id, ti.task_id, map_index=ti.map_index)
    path = logs.ti_log_path(ti, try_number)
    if request.GET.get("q"):
        return render(
            request, "dagruns/_log_search.html", search(path, request.GET["q"], url, try_number)
        )
    if request.GET.get("mode") == "head":
        return render(request, "dagruns/_log_status.html", head_context(ti, try_number, url))
    if request.GET.get("mode") == "tail":
        offset = _int(request.GET.get("offset"), 0)
        line = _int(request.GET.get("line"), 1)
        chunk = page(path, offset, line)
        context = {
            "chunk": chunk,
            "ti": ti,
            "try_number": try_number,
            "more": not chunk["eof"],
            "tail_url": with_query(
                f"{url}/logs/{try_number}",
                mode="tail",
                offset=chunk["next_offset"],
                line=chunk["next_line"],
            ),
        }
        return render(request, "dagruns/_log_tail.html", context)
    if request.GET.get("before") is not None:
        before = _int(request.GET.get("before"), 0)
        start = line_start_before(path, before)
        context = log_context(ti, try_number, url, offset=start, line=None)
    elif request.GET.get("last"):
        context = log_context(ti, try_number, url)
    else:
        context = log_context(
            ti,
            try_number,
            url,
            offset=_int(request.GET.get("offset"), 0),
            line=_int(request.GET.get("line")),
        )
    return render(request, "dagruns/_log.html", {"log": context})


def search(path: Path, query: str, url: str, try_number: int) -> dict:
    needle = query.lower()
    zone = fmt.viewer_zone()
    matches: list[tuple[int, str]] = []
    truncated = False
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if needle in line.lower():
                    if len(matches) >= MAX_MATCHES:
                        truncated = True
                        break
                    found = found_html(line.rstrip("\n"), query, zone)
                    matches.append((number, mark_safe(found)))
    except FileNotFoundError:
        pass
    return {
        "matches": matches,
        "query": query,
        "truncated": truncated,
        "max": MAX_MATCHES,
        "try_number": try_number,
    }


def found_html(line: str, query: str, zone: tzinfo) -> str:
    """A line the search found, as the log view shows it (its leading time in the viewer's
    zone), unless the query matched in that time as the file writes it: then the line stays
    as written, so what was searched for is what is marked."""
    stamp = log_lines.STAMP_RE.match(line)
    if stamp is not None and line.lower().find(query.lower()) >= stamp.end():
        return log_lines.stamped(stamp.group(0), zone) + highlight(line[stamp.end() :], query)
    return highlight(line, query)


def highlight(line: str, query: str) -> str:
    """`line` escaped, with every case-insensitive occurrence of `query` in <mark>."""
    parts = re.split(f"({re.escape(query)})", line, flags=re.IGNORECASE)
    return "".join(
        f"<mark>{escape(part)}</mark>" if i % 2 else escape(part) for i, part in enumerate(parts)
    )


@viewer_required
def log_download(
    request, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int | None = None
):
    ti = _ti(dag_id, run_id, task_id, map_index)
    path = logs.ti_log_path(ti, try_number)
    if not path.exists():
        raise Http404("this try has no log")
    mapped = f"__map-{ti.map_index}" if ti.map_index >= 0 else ""
    name = f"{ti.dag_id}__{ti.task_id}{mapped}__attempt-{try_number}.log"
    size = logs.log_size(path)
    # Streamed in chunks, not a FileResponse: under ASGI Django reads a file response's
    # synchronous iterator to the end before sending (a 50 MB log, 50+ MB of memory).
    chunks = logs.raw_chunks(path, size)
    response = StreamingHttpResponse(
        logs.streamed(chunks, asynchronous=isinstance(request, ASGIRequest)),
        content_type="text/plain; charset=utf-8",
    )
    response["Content-Length"] = str(size)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
