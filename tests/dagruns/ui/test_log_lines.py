"""Log lines as HTML: levels, tracebacks as errors, folded groups and long tracebacks, one
`.l` per file line so the line counter stays true."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from dagruns.ui.log_lines import TRACEBACK_FOLD_LINES, classify, line_level, render


def _line(level: str, msg: str) -> str:
    return f"[2026-11-30T12:00:00.000+0000] {{etl.py:12}} {level} - {msg}"


def _count_lines(html: str) -> int:
    return len(re.findall(r'<div class="l[ "]', html))


def test_the_runner_format_gives_the_level():
    assert line_level(_line("WARNING", "careful")) == "WARNING"
    assert line_level(_line("ERROR", "boom")) == "ERROR"
    assert line_level("plain print output") is None
    assert line_level("[x] {a.py:1} NOTALEVEL - y") is None


def test_each_line_is_coloured_by_its_level_and_escaped():
    html = render([_line("INFO", "<b>hi</b>"), _line("ERROR", "bad"), "printed"])
    assert '<div class="l lv-info">' in html
    assert '<div class="l lv-error">' in html
    assert '<div class="l">printed</div>' in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>" not in html


TRACEBACK = [
    _line("ERROR", "Task failed with exception"),
    "Traceback (most recent call last):",
    '  File "/dags/etl.py", line 3, in run',
    "    raise ValueError('boom')",
    "ValueError: boom",
    _line("INFO", "Marking task as FAILED."),
]


def test_a_traceback_through_its_exception_line_is_an_error_block():
    assert classify(TRACEBACK) == ["ERROR", "ERROR", "ERROR", "ERROR", "ERROR", "INFO"]


def test_chained_tracebacks_stay_errors_and_printing_after_does_not():
    lines = [
        "Traceback (most recent call last):",
        '  File "a.py", line 1, in f',
        "KeyError: 'x'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "a.py", line 2, in f',
        "ValueError: y",
        "done printing",
    ]
    assert classify(lines) == ["ERROR"] * 9 + [None]


def test_a_traceback_begun_in_an_earlier_chunk_is_still_an_error():
    assert classify(['  File "a.py", line 2, in f', "    x()", "ValueError: y"]) == ["ERROR"] * 3


def test_a_short_traceback_is_not_folded():
    html = render(TRACEBACK)
    assert "<details" not in html
    assert _count_lines(html) == len(TRACEBACK)


def test_a_long_traceback_folds_its_frames_and_shows_the_exception():
    frames = [f'  File "m{i}.py", line {i}, in f' for i in range(TRACEBACK_FOLD_LINES + 3)]
    lines = ["Traceback (most recent call last):", *frames, "RuntimeError: deep", "after"]
    html = render(lines)
    assert html.count("<details") == 1
    assert f'data-style="--n: {len(frames)}"' in html
    # the exception line comes after the fold, visible while it is closed
    assert html.index("</details>") < html.index("RuntimeError: deep")
    assert _count_lines(html) == len(lines)


def test_groups_fold_closed_and_keep_one_element_per_line():
    lines = ["before", "::group::Installing", "pip a", "pip b", "::endgroup::", "after"]
    html = render(lines)
    assert '<details class="lg lg-group" data-style="--n: 2">' in html
    assert "Installing" in html and "::group::" not in html
    assert _count_lines(html) == len(lines)


def test_a_group_holding_an_error_is_shown_open():
    html = render(["::group::Run", _line("ERROR", "bad"), "::endgroup::"])
    assert "<details" in html and " open>" in html


def test_nested_groups_count_every_hidden_line():
    lines = ["::group::outer", "a", "::group::inner", "b", "c", "::endgroup::", "::endgroup::"]
    html = render(lines)
    # outer hides a, the inner head, b, c and the inner end marker
    assert 'data-style="--n: 5"' in html and 'data-style="--n: 2"' in html
    assert _count_lines(html) == len(lines)


def test_a_group_left_open_at_the_chunk_end_is_closed_and_a_stray_end_shown():
    html = render(["::group::open", "x"])
    assert html.endswith("</details>")
    assert render(["::endgroup::"]) == '<div class="l">::endgroup::</div>'


def test_markers_in_the_message_of_a_log_line_fold_too():
    # BashOperator's output reaches the log as INFO lines.
    lines = [
        _line("INFO", "::group::Setting up"),
        _line("INFO", "step"),
        _line("INFO", "::endgroup::"),
    ]
    html = render(lines)
    assert '<details class="lg lg-group" data-style="--n: 1">' in html
    assert "Setting up" in html
    assert _count_lines(html) == len(lines)


def test_a_line_time_is_shown_in_the_viewer_zone_as_a_time_element():
    html = render(
        ["[2026-11-30 00:33:18,123] {t.py:3} INFO - <hi>", "[2026-13-45 00:00:00,000] odd"],
        ZoneInfo("Europe/Paris"),
    )
    assert (
        '<div class="l lv-info">[<time datetime="2026-11-30T00:33:18Z">'
        "2026-11-30 01:33:18,123 CET</time>] {t.py:3} INFO - &lt;hi&gt;</div>"
    ) in html
    assert "[2026-13-45 00:00:00,000] odd" in html  # no real date: left as written
