"""Task logs in the browser: one log per try, paged by bytes on line boundaries, a tail that
returns only the new lines, a search over the whole file, and a download."""

from __future__ import annotations

import re

import pytest

from dagruns.domain import logs
from dagruns.models import TaskInstance, TaskInstanceHistory
from dagruns.views import logs as log_views
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db


@pytest.fixture
def running_ti():
    dag = store_dag("etl")
    run = add_run(dag, states={"extract": "running"}, try_number=2)
    ti = TaskInstance.objects.get(dag_run=run, task_id="extract")
    TaskInstanceHistory.objects.create(
        task_instance=ti,
        dag_id="etl",
        run_id=run.run_id,
        task_id="extract",
        try_number=1,
        state="failed",
    )
    logs.append_lines(logs.ti_log_path(ti, 1), ["first try went wrong"])
    logs.append_lines(logs.ti_log_path(ti, 2), [f"line {i}" for i in range(1, 6)])
    return ti, f"/dags/etl/runs/{run.run_id}/tasks/extract"


def _lines(html: str) -> list[str]:
    return re.findall(r'<div class="l">([^<]*)</div>', html)


def test_each_try_has_its_own_log_and_the_latest_is_shown(viewer, running_ti):
    ti, url = running_ti
    html = viewer.get(url).content.decode()
    assert _lines(html) == [f"line {i}" for i in range(1, 6)]
    assert 'class="log-tail"' in html  # the running try tails
    first = viewer.get(url, {"try": 1}, headers={"HX-Request": "true", "HX-Target": "ti-logs"})
    assert _lines(first.content.decode()) == ["first try went wrong"]
    assert 'class="log-tail"' not in first.content.decode()


def test_the_tail_returns_only_new_lines_and_moves_its_offset(viewer, running_ti):
    ti, url = running_ti
    size = logs.log_size(logs.ti_log_path(ti, 2))
    quiet = viewer.get(
        f"{url}/logs/2", {"mode": "tail", "offset": size, "line": 6}
    ).content.decode()
    assert _lines(quiet) == []
    logs.append_lines(logs.ti_log_path(ti, 2), ["line 6", "line <7>"])
    tail = viewer.get(f"{url}/logs/2", {"mode": "tail", "offset": size, "line": 6}).content.decode()
    assert _lines(tail) == ["line 6", "line &lt;7&gt;"]
    assert "counter-reset: ln 5" in tail
    new_size = logs.log_size(logs.ti_log_path(ti, 2))
    assert f"offset={new_size}" in tail and "line=8" in tail


def test_pages_move_forward_and_back_on_line_boundaries(viewer, running_ti, monkeypatch):
    ti, url = running_ti
    monkeypatch.setattr(log_views, "PAGE_BYTES", 64)
    path = logs.ti_log_path(ti, 2)
    logs.append_lines(path, [f"row {i:03d} " + "." * 20 for i in range(20)])
    last = viewer.get(url).content.decode()
    assert _lines(last)[-1].startswith("row 019")
    earlier = re.search(r'href="([^"]*before=\d+)"', last).group(1).replace("&amp;", "&")
    page = viewer.get(earlier).content.decode()
    shown = _lines(page)
    assert shown and all(line.startswith(("row", "line")) for line in shown)
    number = int(re.search(r"counter-reset: ln (\d+)", page).group(1)) + 1
    whole = path.read_text().splitlines()
    assert whole[number - 1] == shown[0]  # the line numbers are right


def test_search_finds_lines_in_the_whole_file_with_their_numbers(viewer, running_ti):
    ti, url = running_ti
    html = viewer.get(f"{url}/logs/2", {"q": "LINE 3"}).content.decode()
    assert '<span class="n">3</span><mark>line 3</mark>' in html
    assert "1 line with" in html


def test_download_serves_the_whole_try_log(viewer, running_ti):
    ti, url = running_ti
    response = viewer.get(f"{url}/logs/1/download")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"first try went wrong\n"
    assert "attachment" in response["Content-Disposition"]
    assert viewer.get(f"{url}/logs/9/download").status_code == 404


def test_lines_are_coloured_by_level_and_the_page_has_wrap_and_full_screen(viewer, running_ti):
    ti, url = running_ti
    logs.append_lines(
        logs.ti_log_path(ti, 2),
        ["[2026-11-30T12:00:00] {etl.py:3} ERROR - boom", "Traceback (most recent call last):"],
    )
    html = viewer.get(url).content.decode()
    assert '<div class="l lv-error">[2026-11-30T12:00:00] {etl.py:3} ERROR - boom</div>' in html
    assert '<div class="l lv-error">Traceback (most recent call last):</div>' in html
    assert 'data-log-toggle="wrap"' in html and 'data-log-toggle="fullscreen"' in html


def test_the_live_header_refreshes_itself_and_shows_the_end(viewer, running_ti):
    ti, url = running_ti
    html = viewer.get(url).content.decode()
    head_url = f"{url}/logs/2?mode=head"
    assert f'hx-get="{head_url}"' in html and 'data-live-try="2"' in html
    logs.append_lines(logs.ti_log_path(ti, 2), ["x" * 2000])
    ti.state = "success"
    ti.save(update_fields=["state"])
    head = viewer.get(head_url).content.decode()
    assert "2.0 KiB" in head  # the size as it is now
    assert "live-dot" not in head and "hx-get" not in head  # ended: no dot, no more refreshes
    assert '<span id="try-swatch-2" class="swatch s-success" hx-swap-oob="true">' in head
    earlier = viewer.get(f"{url}/logs/1?mode=head").content.decode()
    assert 'class="swatch s-failed"' in earlier


def test_search_results_show_line_times_in_the_viewers_zone_unless_the_time_was_searched(
    viewer, running_ti
):
    ti, url = running_ti
    logs.append_lines(
        logs.ti_log_path(ti, 2), ["[2026-11-30 00:33:18,123] {etl.py:3} INFO - found me"]
    )
    viewer.cookies["orch_timezone"] = "Asia/Tokyo"
    html = viewer.get(f"{url}/logs/2", {"q": "found"}).content.decode()
    assert ">2026-11-30 09:33:18,123 JST</time>] {etl.py:3} INFO - <mark>found</mark> me" in html
    html = viewer.get(f"{url}/logs/2", {"q": "00:33"}).content.decode()
    assert "[2026-11-30 <mark>00:33</mark>:18,123] {etl.py:3}" in html
