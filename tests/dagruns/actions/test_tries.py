"""The actions behind the Execution API: the retry decision, skipping, history, and claims
that cannot be won twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from dagruns.actions import tries
from dagruns.actions.audit import Actor
from dagruns.actions.tries import (
    InvalidTaskState,
    StaleTry,
    TaskInstanceNotFound,
    do_finish_try,
    do_start_try,
    downstream_ids,
    find_task,
    next_retry_datetime,
    record_try_history,
)
from dagruns.models import AuditEvent, TaskInstance, TaskInstanceHistory, XCom
from tests.builders import make_run, queue, serialized, set_state, ti_of

END = datetime(2024, 1, 2, 12, 0, tzinfo=UTC)


def retry_at(try_number: int, **task) -> float:
    """Seconds from the end of the try to its retry."""
    when = next_retry_datetime(
        {"retry_delay": 10.0, **task},
        dag_id="d",
        task_id="t",
        logical_date=datetime(2024, 1, 1, tzinfo=UTC),
        try_number=try_number,
        end_date=END,
    )
    return (when - END).total_seconds()


# --- next_retry_datetime: Airflow's rule ------------------------------------------------------


def test_without_backoff_the_retry_waits_retry_delay_every_time():
    assert [retry_at(n) for n in (1, 2, 5)] == [10.0, 10.0, 10.0]


def test_without_backoff_max_retry_delay_does_not_apply_as_in_airflow():
    assert retry_at(1, max_retry_delay=5.0) == 10.0


@pytest.mark.parametrize("try_number", [1, 2, 3, 4])
def test_exponential_backoff_waits_between_delay_times_2_pow_try_minus_1_and_twice_that(try_number):
    low = 10 * 2 ** (try_number - 1)
    assert low <= retry_at(try_number, retry_exponential_backoff=True) < 2 * low


def test_exponential_backoff_is_deterministic_per_task_instance_and_try():
    assert retry_at(3, retry_exponential_backoff=True) == retry_at(
        3, retry_exponential_backoff=True
    )
    assert float(retry_at(3, retry_exponential_backoff=True)).is_integer()


def test_a_numeric_backoff_is_the_multiplier():
    assert 90 <= retry_at(3, retry_exponential_backoff=3) < 180  # 10 * 3**2


@pytest.mark.parametrize("value", [False, None, 0, 1, 1.0])
def test_a_backoff_of_false_zero_or_one_means_a_plain_delay(value):
    assert retry_at(4, retry_exponential_backoff=value) == 10.0


def test_max_retry_delay_caps_the_backoff():
    assert retry_at(6, retry_exponential_backoff=True, max_retry_delay=60.0) == 60.0


def test_backoff_is_capped_at_a_day_and_never_overflows():
    assert retry_at(500, retry_exponential_backoff=True) == 24 * 60 * 60


def test_a_zero_retry_delay_with_backoff_still_waits_at_least_a_second():
    assert 1 <= retry_at(1, retry_delay=0.0, retry_exponential_backoff=True) < 2


# --- the serialized DAG -----------------------------------------------------------------------

DIAMOND = serialized("d", {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": ["e"], "e": []})


def test_find_task_finds_a_task_dict_by_id():
    assert find_task(DIAMOND, "c")["upstream_task_ids"] == ["a"]
    assert find_task(DIAMOND, "zzz") is None
    assert find_task(None, "a") is None


def test_downstream_ids_direct_and_transitive():
    assert downstream_ids(DIAMOND, "a") == {"b", "c"}
    assert downstream_ids(DIAMOND, "a", transitive=True) == {"b", "c", "d", "e"}
    assert downstream_ids(DIAMOND, "e", transitive=True) == set()
    assert downstream_ids(DIAMOND, "nope") == set()


# --- the transitions --------------------------------------------------------------------------


@pytest.fixture
def run(db):
    return make_run(settings={"extract": {"retries": 1, "retry_delay": 60.0}})


@pytest.fixture
def ti(run):
    return queue(ti_of(run, "extract"))


@pytest.mark.django_db
def test_claiming_a_try_clears_the_xcoms_of_the_previous_try(run, ti):
    # Try 1 pushed XComs and failed; the retry (try 2) must not see them.
    TaskInstance.objects.filter(pk=ti.pk).update(try_number=2)
    XCom.objects.create(
        dag_run=run, dag_id="etl", run_id=run.run_id, task_id="extract", key="k", value=1
    )
    XCom.objects.create(
        dag_run=run, dag_id="etl", run_id=run.run_id, task_id="load", key="k", value=2
    )
    do_start_try(ti.id, 2)
    assert list(XCom.objects.values_list("task_id", flat=True)) == ["load"]


@pytest.mark.django_db
def test_claiming_with_a_stale_try_number_raises_stale_try(ti):
    with pytest.raises(StaleTry):
        do_start_try(ti.id, 2)
    ti.refresh_from_db()
    assert ti.state == "queued"


@pytest.mark.django_db
def test_an_unknown_task_instance_is_not_found(db):
    with pytest.raises(TaskInstanceNotFound):
        do_start_try("8d7c1f0e-0000-4000-8000-000000000000", 1)


@pytest.mark.django_db
def test_the_scheduler_fails_a_zombie_with_the_same_retry_rule_and_history(ti):
    do_start_try(ti.id, 1)
    result = do_finish_try(ti.id, 1, state="failed", actor=Actor(name="scheduler"), reason="zombie")
    assert result.state == "up_for_retry"
    assert result.next_retry_at == result.end_date + timedelta(seconds=60)
    assert TaskInstanceHistory.objects.get(task_instance=ti).state == "up_for_retry"
    event = AuditEvent.objects.get(event="up_for_retry")
    assert (event.owner, event.extra["reason"]) == ("scheduler", "zombie")


@pytest.mark.django_db
def test_a_try_cannot_finish_in_a_state_that_is_not_final(ti):
    do_start_try(ti.id, 1)
    with pytest.raises(ValueError):
        do_finish_try(ti.id, 1, state="running")


@pytest.mark.django_db
def test_finishing_a_try_that_is_not_running_raises_invalid_state(ti):
    with pytest.raises(InvalidTaskState) as info:
        do_finish_try(ti.id, 1, state="success")
    assert info.value.previous_state == "queued"


@pytest.mark.django_db
def test_record_try_history_is_idempotent_per_try(ti):
    do_start_try(ti.id, 1)
    ti.refresh_from_db()
    set_state(ti, None)  # a clear killing the running try records it …
    record_try_history(ti)
    ti.note = "again"
    record_try_history(ti)  # … and recording it again updates the same row
    rows = TaskInstanceHistory.objects.filter(task_instance=ti)
    assert [(h.try_number, h.state, h.note) for h in rows] == [(1, None, "again")]


@pytest.mark.django_db
def test_history_copies_every_field_of_the_try(ti):
    do_start_try(ti.id, 1, hostname="h", pid=7)
    finished = do_finish_try(ti.id, 1, state="success", cpu_time=3.0, peak_memory=10)
    history = TaskInstanceHistory.objects.get(task_instance=ti)
    for field in (
        "dag_id",
        "run_id",
        "task_id",
        "map_index",
        "state",
        "try_number",
        "max_tries",
        "start_date",
        "end_date",
        "duration",
        "hostname",
        "pid",
        "pool",
        "queue",
        "cpu_time",
        "peak_memory",
        "dag_version_id",
    ):
        assert getattr(history, field) == getattr(finished, field), field


def _race(calls: list) -> list[str]:
    """Run each call in its own thread, all released at once by a barrier: what each returned,
    or "refused" when the action refused it (InvalidTaskState)."""
    results: list[str] = []
    barrier = threading.Barrier(len(calls))

    def worker(call) -> None:
        try:
            barrier.wait()
            results.append(call())
        except InvalidTaskState:
            results.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(c,), name=f"w{i}") for i, c in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _claim(ti_id) -> str:
    do_start_try(ti_id, 1, hostname=threading.current_thread().name)
    return "won"


@pytest.mark.django_db(transaction=True)
def test_two_runners_claiming_the_same_try_at_once_only_one_wins():
    run = make_run()
    ti = queue(ti_of(run, "extract"))
    results = _race([lambda: _claim(ti.id)] * 4)
    assert sorted(results) == ["refused", "refused", "refused", "won"]
    assert TaskInstance.objects.get(pk=ti.pk).state == "running"


@pytest.mark.django_db(transaction=True)
def test_a_try_finished_twice_at_once_is_recorded_once():
    run = make_run()
    ti = queue(ti_of(run, "extract"))
    do_start_try(ti.id, 1)
    results = _race(
        [
            lambda state=state: do_finish_try(ti.id, 1, state=state).state
            for state in ("success", "failed")
        ]
    )
    assert results.count("refused") == 1
    assert TaskInstanceHistory.objects.filter(task_instance=ti).count() == 1


def test_the_wakeup_is_imported_where_tests_can_replace_it():
    assert tries.wake_schedulers.__module__ == "dagruns.notify.wakeup"
