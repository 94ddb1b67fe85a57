"""Highlighting a source line by line for the diff: a string spanning lines keeps its class on
each line, every line's markup is balanced, markup in the source is escaped, and lexing stops
after the last line asked for."""

from __future__ import annotations

from dagruns.ui.version_diff import highlighted_lines

SOURCE = 'x = """first <b>\nsecond"""\ny = 1\n'


def test_each_line_is_balanced_escaped_and_keeps_its_tokens_class():
    lines = highlighted_lines(SOURCE)
    assert len(lines) == 3
    assert lines[0].endswith('<span class="s2">first &lt;b&gt;</span>')
    assert lines[1].startswith('<span class="s2">second</span>')
    assert lines[2].startswith('<span class="n">y</span>')
    for line in lines:
        assert line.count("<span") == line.count("</span>")
    assert "<b>" not in "".join(lines)


def test_lexing_stops_after_the_lines_asked_for():
    source = "".join(f"x{i} = {i}\n" for i in range(1000))
    assert len(highlighted_lines(source, upto=10)) < 20
