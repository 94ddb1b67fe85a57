"""NUL characters are refused by one check (actions/text.py), with one message, whatever the
action: trigger, notes, variables, pools, connections."""

from __future__ import annotations

import pytest

from dagruns.actions import connections, pools, variables
from dagruns.actions.audit import Actor
from dagruns.actions.notes import NoteInvalid, do_set_run_note
from dagruns.actions.runs import TriggerError, do_trigger_dag
from dagruns.actions.text import NUL_MESSAGE, check_no_nul, contains_nul
from tests.builders import make_run

ACTOR = Actor(name="tester")


def test_nul_is_found_at_any_depth_of_json():
    assert contains_nul({"a": ["ok", {"b": "x\x00"}]})
    assert contains_nul({"k\x00": 1})
    assert not contains_nul({"a": [1, "two", None]})


def test_the_message_names_the_field():
    with pytest.raises(ValueError, match=r"^host: NUL characters \(\\u0000\) are not allowed$"):
        check_no_nul("a\x00b", "host")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "call, error",
    [
        (lambda run: do_set_run_note(run, "a\x00", ACTOR), NoteInvalid),
        (lambda run: do_trigger_dag("etl", ACTOR, note="a\x00"), TriggerError),
        (lambda run: do_trigger_dag("etl", ACTOR, conf={"k": "a\x00"}), TriggerError),
        (lambda run: do_trigger_dag("etl", ACTOR, run_id="r\x00"), TriggerError),
        (lambda run: variables.do_set_variable("k\x00", "v", ACTOR), variables.VariableError),
        (lambda run: pools.do_create_pool("p\x00", 1, ACTOR), pools.PoolInvalid),
        (
            lambda run: connections.do_create_connection(
                "c", {"conn_type": "http", "host": "h\x00"}, ACTOR
            ),
            connections.ConnectionInvalid,
        ),
    ],
    ids=[
        "note",
        "trigger-note",
        "trigger-conf",
        "trigger-run-id",
        "variable",
        "pool",
        "connection",
    ],
)
def test_every_action_refuses_nul_with_the_same_message(call, error):
    run = make_run()
    with pytest.raises(error, match=r"NUL characters \(\\u0000\) are not allowed") as caught:
        call(run)
    assert str(caught.value).endswith(NUL_MESSAGE)
