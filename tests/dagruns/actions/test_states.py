"""The transition table beside the states, and the single-row transitions that consult it."""

from __future__ import annotations

import pytest

from dagruns.actions import tries
from dagruns.actions.failures import fail_try_from_outside
from dagruns.models.states import (
    MANUAL_TI_TARGETS,
    TI_TRANSITIONS,
    DagRunState,
    IllegalStateTransition,
    TaskInstanceState,
    dagrun_transition_allowed,
    ti_transition_allowed,
)
from tests.builders import make_run, queue, set_state, ti_of

TIS = TaskInstanceState


def test_every_state_has_a_row_in_the_table():
    assert set(TI_TRANSITIONS) == {None, *TaskInstanceState.values}


def test_finished_task_instances_move_only_by_hand():
    for finished in (TIS.SUCCESS, TIS.FAILED, TIS.SKIPPED, TIS.UPSTREAM_FAILED, TIS.REMOVED):
        assert not ti_transition_allowed(finished, TIS.RUNNING, manual=False)
        assert not ti_transition_allowed(finished, None, manual=False)
        for target in MANUAL_TI_TARGETS:
            assert ti_transition_allowed(finished, target, manual=True)


def test_only_a_queued_try_may_start_running():
    allowed = {
        s
        for s in (None, *TaskInstanceState.values)
        if ti_transition_allowed(s, TIS.RUNNING, manual=False)
    }
    assert allowed == {TIS.QUEUED}


def test_a_run_goes_queued_running_finished_and_people_may_set_it():
    assert dagrun_transition_allowed(DagRunState.QUEUED, DagRunState.RUNNING, manual=False)
    assert not dagrun_transition_allowed(DagRunState.QUEUED, DagRunState.SUCCESS, manual=False)
    assert dagrun_transition_allowed(DagRunState.QUEUED, DagRunState.SUCCESS, manual=True)


@pytest.mark.django_db
def test_the_model_refuses_an_illegal_move_naming_both_states():
    ti = set_state(ti_of(make_run(), "extract"), TIS.SUCCESS)
    with pytest.raises(IllegalStateTransition, match="from success to running"):
        ti.check_transition(TIS.RUNNING)
    ti.check_transition(None, manual=True)  # a clear


@pytest.mark.django_db
def test_starting_a_try_that_is_not_queued_is_refused():
    ti = queue(ti_of(make_run(), "extract"))
    set_state(ti, TIS.SCHEDULED)
    with pytest.raises(tries.InvalidTaskState):
        tries.do_start_try(ti.pk, ti.try_number)


@pytest.mark.django_db
def test_failing_a_try_from_outside_uses_the_table(django_capture_on_commit_callbacks):
    from django.utils import timezone

    ti = queue(ti_of(make_run(), "extract"))
    tries.do_start_try(ti.pk, ti.try_number)
    assert fail_try_from_outside(ti, "zombie", timezone.now()) == 1
    ti.refresh_from_db()
    assert ti.state == TIS.FAILED
