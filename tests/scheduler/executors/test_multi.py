"""The routing executor (scheduler/executors/multi.py) over named executors, and
`load_executor` building it from ORCH_EXECUTOR's list."""

from __future__ import annotations

import pytest

from scheduler.executors.base import ExecutorEvent, load_executor
from scheduler.executors.local import LocalExecutor
from scheduler.executors.multi import MultiExecutor
from scheduler.runner.workload import WORKLOAD_VERSION, Workload
from tests.builders import RecordingExecutor


def workload(ti_id: str, try_number: int = 1) -> Workload:
    return Workload(
        version=WORKLOAD_VERSION,
        ti_id=ti_id,
        dag_id="d",
        run_id="r",
        task_id=f"t{ti_id}",
        map_index=-1,
        try_number=try_number,
        dag_fileloc="/dags/d.py",
        dags_folder="/dags",
        token="token",
        api_url="http://127.0.0.1:8000",
        queue="default",
        executor_config={},
        execution_timeout=None,
        pool="default_pool",
        heartbeat_interval=5.0,
        report_retry_timeout=60.0,
    )


@pytest.fixture
def router():
    local = RecordingExecutor(parallelism=2, name="local")
    celery = RecordingExecutor(parallelism=3, name="celery")
    return MultiExecutor({"local": local, "celery": celery}), local, celery


def test_the_first_executor_is_the_default_and_others_are_reached_by_name(router):
    multi, _local, _celery = router
    assert multi.executor_for(None) == "local"
    assert multi.executor_for("celery") == "celery"
    assert multi.executor_for("local") == "local"
    assert multi.executor_for("kubernetes") is None
    assert multi.name == "local,celery"


def test_a_single_executor_takes_only_its_own_name_or_none():
    local = RecordingExecutor(name="local")
    assert local.executor_for(None) == "local"
    assert local.executor_for("local") == "local"
    assert local.executor_for("celery") is None
    assert local.open_slots_by_executor() == {"local": 32}


def test_queue_on_hands_the_try_to_the_named_executor_and_queue_to_the_default(router):
    multi, local, celery = router
    multi.queue_on("celery", workload("1"))
    multi.queue(workload("2"))
    assert [w.ti_id for w in celery.workloads] == ["1"]
    assert [w.ti_id for w in local.workloads] == ["2"]
    with pytest.raises(ValueError, match="no executor 'kubernetes' here"):
        multi.queue_on("kubernetes", workload("3"))


def test_open_slots_are_counted_per_executor(router):
    multi, local, celery = router
    multi.queue_on("local", workload("1"))
    multi.queue_on("local", workload("2"))
    multi.queue_on("celery", workload("3"))
    assert multi.open_slots_by_executor() == {"local": 0, "celery": 2}
    assert multi.open_slots == 2
    assert multi.running_count == 3
    assert multi.parallelism == 5


def test_sync_is_the_union_of_the_executors_ended_runners(router):
    multi, local, celery = router
    multi.queue_on("local", workload("1"))
    multi.queue_on("celery", workload("2"))
    local.ended.append(ExecutorEvent("1", 1, 0))
    celery.ended.append(ExecutorEvent("2", 1, -9))
    assert sorted(multi.sync(), key=lambda e: e.ti_id) == [
        ExecutorEvent("1", 1, 0),
        ExecutorEvent("2", 1, -9),
    ]
    assert multi.running_tries() == {}
    assert multi.sync() == []


def test_running_tries_are_the_union_and_terminate_reaches_the_owner(router):
    multi, local, celery = router
    multi.queue_on("local", workload("1"))
    multi.queue_on("celery", workload("2", try_number=3))
    assert multi.running_tries() == {"1": 1, "2": 3}
    assert multi.terminate("2") is True
    assert celery.terminated == ["2"] and local.terminated == []
    assert multi.terminate("2") is False  # already being terminated
    assert multi.terminate("unknown") is False


def test_end_ends_every_executor_even_when_one_fails():
    class Failing(RecordingExecutor):
        def end(self):
            raise RuntimeError("broker gone")

    class Ending(RecordingExecutor):
        ended_called = False

        def end(self):
            self.ended_called = True

    failing, ending = Failing(name="celery"), Ending(name="local")
    multi = MultiExecutor({"celery": failing, "local": ending})
    with pytest.raises(RuntimeError, match="broker gone"):
        multi.end()
    assert ending.ended_called


def test_load_executor_keeps_one_executor_as_itself():
    single = load_executor("local", 4)
    assert type(single) is LocalExecutor and single.parallelism == 4
    assert type(load_executor(["local"], 4)) is LocalExecutor


def test_load_executor_routes_several_each_with_its_own_parallelism(monkeypatch):
    from scheduler.executors import base

    monkeypatch.setattr(base, "_load_one", lambda name, n: RecordingExecutor(n, name=name))
    several = load_executor("local, celery", 4)
    assert isinstance(several, MultiExecutor)
    assert list(several.executors) == ["local", "celery"]
    assert several.open_slots_by_executor() == {"local": 4, "celery": 4}


def test_load_executor_builds_the_router_over_the_real_executors(orch_settings):
    from scheduler.executors.celery import CeleryExecutor

    orch_settings.celery_broker_url = "redis://127.0.0.1:1/0"  # not contacted until start()
    several = load_executor(["local", "celery"], 3)
    assert isinstance(several, MultiExecutor)
    assert [type(e) for e in several.executors.values()] == [LocalExecutor, CeleryExecutor]
    assert several.parallelism == 6
    several.end()


def test_load_executor_refuses_an_unknown_name():
    with pytest.raises(ValueError, match="unknown executor 'dask'"):
        load_executor("local,dask", 4)


class Remote(RecordingExecutor):
    """Stands in for an executor whose tries run on workers and whose messages can be lost
    (the Celery executor's answers to the drain and re-send questions)."""

    def __init__(self, parallelism: int = 32) -> None:
        super().__init__(parallelism, name="celery")
        self.resent: list[tuple[str, int]] = []

    def tries_to_drain(self):
        return {}

    def can_resend(self, executor_name):
        return executor_name == self.name

    def resend(self, workload, count):
        self.resent.append((workload.ti_id, count))
        self.queue(workload)


def test_a_stopping_scheduler_drains_only_the_executors_whose_runners_live_with_it():
    local, remote = RecordingExecutor(name="local"), Remote()
    multi = MultiExecutor({"local": local, "celery": remote})
    multi.queue_on("local", workload("1"))
    multi.queue_on("celery", workload("2"))
    assert multi.tries_to_drain() == {"1": 1}
    assert multi.running_tries() == {"1": 1, "2": 1}


def test_a_stuck_try_is_sent_again_by_the_executor_it_was_queued_on():
    local, remote = RecordingExecutor(name="local"), Remote()
    multi = MultiExecutor({"local": local, "celery": remote})
    assert multi.can_resend("celery") is True
    assert multi.can_resend("local") is False
    assert multi.can_resend("kubernetes") is False
    multi.queue_on("celery", workload("2"))
    multi.resend(workload("2"), 1)
    # Not in flight here (queued by a scheduler that since restarted): the re-sending one.
    multi.resend(workload("3"), 2)
    assert remote.resent == [("2", 1), ("3", 2)]
    assert local.workloads == []


def test_resend_without_any_re_sending_executor_is_refused():
    multi = MultiExecutor({"local": RecordingExecutor(name="local")})
    with pytest.raises(ValueError, match="no executor here sends tries again"):
        multi.resend(workload("1"), 1)
