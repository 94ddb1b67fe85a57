import types

import pytest

from dagruns.sdk import (
    DAG,
    AirflowDagDuplicatedIdException,
    EmptyOperator,
    capture_dags,
    collect_dags,
    dag,
)
from dagruns.sdk.dag import auto_registered_dags, reset_auto_registered


def test_a_with_block_registers_the_dag_when_it_ends(isolated_registry):
    with DAG("registered") as d:
        assert isolated_registry == []
    assert isolated_registry == [d]


def test_a_dag_without_a_with_block_is_not_registered(isolated_registry):
    DAG("plain")
    assert isolated_registry == []


def test_auto_register_false_opts_out(isolated_registry):
    with DAG("quiet", auto_register=False):
        pass
    assert isolated_registry == []


def test_a_failing_with_block_does_not_register(isolated_registry):
    with pytest.raises(RuntimeError), DAG("broken"):
        raise RuntimeError("boom")
    assert isolated_registry == []


def test_capture_dags_blocks_nest_and_restore_the_outer_registry(isolated_registry):
    with DAG("outer") as outer:
        pass
    with capture_dags() as inner:
        with DAG("inner") as inner_dag:
            pass
        assert auto_registered_dags() == [inner_dag]
    assert inner == [inner_dag]
    assert isolated_registry == [outer]


def test_an_empty_inner_capture_leaves_an_empty_outer_capture_in_place():
    with capture_dags() as outer:
        with capture_dags():
            pass
        with DAG("after_inner") as after:
            pass
    assert outer == [after]


def test_reset_auto_registered_forgets_registrations(isolated_registry):
    with DAG("forgotten"):
        pass
    reset_auto_registered()
    assert auto_registered_dags() == []


def test_collect_dags_finds_globals_and_registered_dags_once_each():
    module = types.ModuleType("fake_dag_file")
    module.__file__ = "/dags/fake_dag_file.py"
    with capture_dags():
        top_level = DAG("top_level")
        with DAG("in_with") as in_with:
            EmptyOperator(task_id="t")

        @dag
        def from_decorator():
            EmptyOperator(task_id="t")

        created = from_decorator()
        module.top_level = top_level
        module.again = in_with
        found = collect_dags(vars(module))
    assert found == [top_level, in_with, created]
    assert {d.fileloc for d in found} == {"/dags/fake_dag_file.py"}


def test_collect_dags_accepts_an_explicit_registration_list():
    with capture_dags() as captured, DAG("captured"):
        pass
    assert [d.dag_id for d in collect_dags({}, captured)] == ["captured"]


def test_collect_dags_rejects_two_dags_with_one_id():
    with capture_dags():
        with DAG("twin"):
            pass
        with DAG("twin"):
            pass
        with pytest.raises(AirflowDagDuplicatedIdException, match="'twin'"):
            collect_dags({"__file__": "twins.py"})
