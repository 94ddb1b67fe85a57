"""The runner's check of a result a mapped task expands over (scheduler/runner/mapping.py)."""

from __future__ import annotations

import pytest

from dagruns.sdk import DAG, task
from dagruns.sdk.exceptions import UnmappableXComTypePushed
from scheduler.runner.mapping import mapped_length_of_result


def second_order_dag():
    """Airflow's second-order mapping: add_10 expands over the instances of times_2."""
    with DAG("second_order") as dag:

        @task
        def get_nums():
            return [1, 2, 3]

        @task
        def times_2(num):
            return num * 2

        @task
        def add_10(num):
            return num + 10

        add_10.expand(num=times_2.expand(num=get_nums()))
    return dag


def test_an_instance_of_a_mapped_task_may_return_a_scalar_to_a_mapped_consumer():
    times_2 = second_order_dag().get_task("times_2")
    instance = times_2.unmap({"num": 1})
    assert mapped_length_of_result(instance, 2, map_index=0) is None


def test_an_unmapped_producer_must_still_return_something_mappable():
    get_nums = second_order_dag().get_task("get_nums")
    assert mapped_length_of_result(get_nums, [1, 2, 3]) == 3
    with pytest.raises(UnmappableXComTypePushed):
        mapped_length_of_result(get_nums, 7)
