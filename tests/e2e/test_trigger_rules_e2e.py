"""Every trigger rule against every mix of finished upstream states, run for real.

Upstreams: ok* succeed, bad* fail, skip* raise AirflowSkipException. Each downstream task is
named `<rule>__<mix>`; the table is Airflow's documented outcome for each combination.

Airflow settles a task as soon as its outcome is certain from the upstreams finished so far,
so one cell depends on order: all_success over a failure and a skip is upstream_failed when the
failure lands first and skipped when the skip does. The skip tasks wait until the test has
seen both failures committed (a release file), so the order is the table's on any machine.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connections

from dagruns.models import TaskInstance

pytestmark = pytest.mark.django_db(transaction=True)

MIXES = {
    "ss": ("ok1", "ok2"),
    "sf": ("ok1", "bad1"),
    "sk": ("ok1", "skip1"),
    "fk": ("bad1", "skip1"),
    "ff": ("bad1", "bad2"),
    "kk": ("skip1", "skip2"),
}
S, F, K, U = "success", "failed", "skipped", "upstream_failed"
EXPECTED = {
    #                            ss  sf  sk  fk  ff  kk
    "all_success":              (S,  U,  K,  U,  U,  K),
    "all_failed":               (K,  K,  K,  K,  S,  K),
    "all_done":                 (S,  S,  S,  S,  S,  S),
    "all_done_min_one_success": (S,  S,  K,  K,  U,  K),
    "all_done_setup_success":   (S,  S,  S,  S,  S,  S),
    "all_skipped":              (K,  K,  K,  K,  K,  S),
    "one_success":              (S,  S,  S,  U,  U,  K),
    "one_failed":               (K,  S,  K,  S,  S,  K),
    "one_done":                 (S,  S,  S,  S,  S,  K),
    "none_failed":              (S,  U,  S,  U,  U,  S),
    "none_failed_min_one_success": (S, U, S, U, U,  K),
    "none_skipped":             (S,  S,  K,  K,  S,  K),
    "always":                   (S,  S,  S,  S,  S,  S),
}  # fmt: skip

DAG_FILE = f"""
RELEASE = "__RELEASE__"
MIXES = {MIXES!r}
RULES = {sorted(EXPECTED)!r}

def ok():
    return "fine"

def bad():
    raise ValueError("planned failure")

def skip():
    import os, time
    from dagruns.sdk import AirflowSkipException
    deadline = time.monotonic() + 300
    while not os.path.exists(RELEASE) and time.monotonic() < deadline:
        time.sleep(0.05)
    raise AirflowSkipException("planned skip")

with DAG("rules", schedule=None, start_date=START, max_active_tasks=32) as dag:
    ups = {{}}
    for name in ("ok1", "ok2"):
        ups[name] = PythonOperator(task_id=name, python_callable=ok)
    for name in ("bad1", "bad2"):
        ups[name] = PythonOperator(task_id=name, python_callable=bad)
    for name in ("skip1", "skip2"):
        ups[name] = PythonOperator(task_id=name, python_callable=skip)
    for rule in RULES:
        for mix, names in MIXES.items():
            down = EmptyOperator(task_id=f"{{rule}}__{{mix}}", trigger_rule=rule)
            [ups[n] for n in names] >> down
"""


def release_skips_once_failures_are_committed(release: Path, done: threading.Event) -> None:
    """The skips may finish only after both failures are in the database."""
    try:
        while not done.is_set():
            failed = TaskInstance.objects.filter(
                dag_id="rules", task_id__in=["bad1", "bad2"], state="failed"
            ).count()
            if failed == 2:
                release.touch()
                return
            done.wait(0.05)
    finally:
        connections.close_all()  # this thread's own connection, before the test database goes


def test_every_trigger_rule_with_every_mix_of_upstream_states(engine, tmp_path):
    release = tmp_path / "release-skips"
    engine.add("rules.py", DAG_FILE.replace("__RELEASE__", str(release)))
    engine.parse()
    done = threading.Event()
    watcher = threading.Thread(
        target=release_skips_once_failures_are_committed, args=(release, done), daemon=True
    )
    watcher.start()
    try:
        run = engine.run_dag("rules", timeout=300)
    finally:
        done.set()
        watcher.join(10)
    states = engine.states(run)
    assert states["ok1"] == S and states["bad1"] == F and states["skip1"] == K
    wrong = {}
    for rule, outcomes in EXPECTED.items():
        for mix, expected in zip(MIXES, outcomes, strict=True):
            actual = states[f"{rule}__{mix}"]
            if actual != expected:
                wrong[f"{rule}__{mix}"] = (actual, expected)
    assert not wrong, f"(actual, expected): {wrong}"
