import pytest

from dagruns.sdk import DAG, AirflowException, BranchPythonOperator, EmptyOperator, TaskGroup
from dagruns.sdk.operators.branch import XCOM_SKIPMIXIN_KEY

from ..conftest import FakeTI


def build(choice):
    with DAG("d") as dag:
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: choice)
        left = EmptyOperator(task_id="left")
        right = EmptyOperator(task_id="right")
        with TaskGroup("grp") as group:
            first = EmptyOperator(task_id="first")
            first >> EmptyOperator(task_id="second")
        far = EmptyOperator(task_id="far")
        branch >> [left, right, group]
        left >> far
    return dag, branch


def test_it_returns_the_chosen_task_id_and_records_what_is_followed():
    _, branch = build("left")
    ti = FakeTI()
    assert branch.execute({"ti": ti}) == "left"
    assert ti.pushed == [(XCOM_SKIPMIXIN_KEY, {"followed": ["left"]})]


def test_it_accepts_a_list_and_none():
    _, branch = build(["left", "right"])
    assert branch.execute({"ti": FakeTI()}) == ["left", "right"]
    _, branch = build(None)
    ti = FakeTI()
    assert branch.execute({"ti": ti}) is None
    assert ti.pushed == [(XCOM_SKIPMIXIN_KEY, {"followed": []})]


def test_a_task_group_id_follows_the_groups_roots():
    _, branch = build("grp")
    ti = FakeTI()
    branch.execute({"ti": ti})
    assert ti.pushed == [(XCOM_SKIPMIXIN_KEY, {"followed": ["grp.first"]})]


def test_it_rejects_a_task_that_is_not_directly_downstream():
    _, branch = build("far")
    with pytest.raises(AirflowException, match=r"\['far'\].*not a direct downstream.*'left'"):
        branch.execute({"ti": FakeTI()})


def test_it_rejects_non_string_ids():
    _, branch = build([1])
    with pytest.raises(AirflowException, match="strings"):
        branch.execute({"ti": FakeTI()})


def test_it_is_flagged_as_a_branch():
    assert BranchPythonOperator(task_id="b", python_callable=print).is_branch
