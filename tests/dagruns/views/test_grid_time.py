"""The grid tells time and never tells state by colour alone: dates under the run bars, a
run-duration axis, a tooltip and an accessible name on every cell and bar, a glyph per state."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from dagruns.models import DagRun
from dagruns.templatetags.orch import LEGEND
from tests.builders import T0, add_run, store_dag

pytestmark = pytest.mark.django_db


@pytest.fixture
def etl(settings):
    settings.DEBUG = False
    dag = store_dag(
        "etl",
        {"start": ["g.a"], "g.a": ["end"], "end": []},
        groups={"g": ["g.a"]},
    )
    add_run(dag, states={"start": "success", "g.a": "failed"}, state="failed")  # 5 min
    short = add_run(dag, states={"start": "success"}, state="success", run_type="manual")
    DagRun.objects.filter(pk=short.pk).update(
        logical_date=None, end_date=short.start_date + timedelta(minutes=1)
    )
    return dag


def _tag(html: str, pattern: str) -> str:
    found = re.search(r"<(?:a|span)[^>]*" + pattern + r"[^>]*>", html)
    assert found, pattern
    return htmllib.unescape(found.group(0))


def test_a_cell_has_a_tooltip_with_state_try_start_end_duration_and_no_native_title(viewer, etl):
    page = viewer.get("/dags/etl/").content.decode()
    cell = _tag(page, r'class="cell s-failed"')
    assert 'aria-label="g.a in scheduled__2024-01-01T00:00:00+00:00: failed"' in cell
    tip = re.search(r'data-tip="([^"]*)"', cell).group(1)
    assert tip.splitlines() == [
        "g.a",
        "State: failed",
        "Try: 1",
        "Start: 2024-01-01 00:00:10 UTC",
        "End: 2024-01-01 00:00:18 UTC",
        "Duration: 8.0 s",
    ]
    assert "title=" not in cell
    empty = _tag(page, r'data-task-id="end" data-state="none"')
    assert "end in scheduled__2024-01-01T00:00:00+00:00: no status" in empty


def test_a_group_cell_says_its_state_in_words(viewer, etl):
    page = viewer.get("/dags/etl/").content.decode()
    group = _tag(page, r'class="cell gcell s-failed"')
    assert 'role="img"' in group and "g in scheduled__2024-01-01T00:00:00+00:00: failed" in group


def test_run_bars_have_a_date_below_and_a_tooltip_with_the_full_times(viewer, etl):
    page = viewer.get("/dags/etl/").content.decode()
    dates = [htmllib.unescape(d) for d in re.findall(r'class="gdate"[^>]*>([^<]*)<', page)]
    # The logical date, or run_after for a run without one (oldest left).
    assert dates == ["01-01 00:00", "01-02 00:00"]
    assert 'data-tip="Run after: 2024-01-02 00:00:00 UTC">01-02 00:00<' in page
    bar = _tag(page, r'class="runbar s-failed"')
    assert "State: failed" in bar and "Logical date: 2024-01-01 00:00:00" in bar
    assert "Duration: 5 min 00 s" in bar and "title=" not in bar
    manual = _tag(page, r'class="runbar s-success"')
    assert "Run after: 2024-01-02 00:00:00" in manual and "Type: manual" in manual


def test_the_duration_axis_is_labelled_and_the_bars_scale_with_it(viewer, etl):
    page = viewer.get("/dags/etl/").content.decode()
    ticks = re.findall(r'class="gtick" data-style="bottom: (\d+)%">([^<]*)<', page)
    assert ticks == [("0", "0"), ("50", "2 min 30 s"), ("100", "5 min 00 s")]
    heights = re.findall(r'class="runbar[^"]*".*?data-style="height: (\d+)%"', page, re.S)
    assert heights == ["100", "20"]  # 5 min and 1 min


def test_a_grid_without_finished_or_started_runs_has_no_axis(viewer, settings):
    settings.DEBUG = False
    dag = store_dag("idle", {"t": []})
    run = add_run(dag, state="queued", when=T0)
    DagRun.objects.filter(pk=run.pk).update(start_date=None)
    page = viewer.get("/dags/idle/").content.decode()
    assert 'class="gtick"' not in page and 'class="gdate"' in page


def test_every_legend_state_has_a_glyph_so_colour_is_never_alone():
    css = (Path(django_settings.BASE_DIR) / "static" / "orchestrator.css").read_text()
    glyphs = dict(re.findall(r'\.s-([a-z_]+) \{ --g: "([^"]+)"; \}', css))
    # "none" is told by its shape instead: an empty outline, in the grid and the legend.
    assert set(LEGEND) - {"none"} <= set(glyphs)
    assert len(set(glyphs.values())) == len(glyphs)  # no two states share a glyph
    assert ".swatch.s-none { background: transparent;" in css
