"""What instance k of a mapped task receives (dagruns/sdk/expandinput.py, xcom_arg_ops.py,
lazy_sequence.py), resolved against a task instance that serves XComs from a dict."""

from __future__ import annotations

from datetime import datetime

import pytest

from dagruns.sdk import DAG, AirflowException, task
from dagruns.sdk.expandinput import DictOfListsExpandInput, ListOfDictsExpandInput
from dagruns.sdk.lazy_sequence import LazyXComSequence, materialize

START = datetime(2024, 1, 1)


class XComs:
    """The two calls resolution makes on `ti`, answered from {(task_id, map_index): value}."""

    def __init__(self, values: dict, map_index: int = 0) -> None:
        self.values = values
        self.map_index = map_index
        self.requests: list[tuple] = []

    def xcom_pull(self, task_ids, key="return_value", map_indexes=None):
        self.requests.append(("pull", task_ids, map_indexes))
        return self.values.get((task_ids, -1 if map_indexes is None else map_indexes))

    def xcom_sequence(self, task_id, key, start, stop):
        self.requests.append(("sequence", task_id, start, stop))
        pushed = [v for (t, i), v in sorted(self.values.items()) if t == task_id and i >= 0]
        return len(pushed), pushed[start:stop]


@task
def source():
    return [1, 2, 3]


@task
def other():
    return ["a", "b"]


@task
def work(x, y=None):
    return x


def test_several_arguments_give_the_cartesian_product_last_fastest():
    expand = DictOfListsExpandInput({"x": [1, 2], "y": ["a", "b", "c"]}, "Task 't'")
    picked = [expand.resolve({"ti": XComs({})}, k) for k in range(6)]
    assert [(p["x"], p["y"]) for p in picked] == [
        (1, "a"), (1, "b"), (1, "c"), (2, "a"), (2, "b"), (2, "c"),
    ]  # fmt: skip
    with pytest.raises(AirflowException, match="map index 6 is out of range"):
        expand.resolve({"ti": XComs({})}, 6)


def test_a_dict_maps_over_its_items():
    expand = DictOfListsExpandInput({"x": {"k1": 1, "k2": 2}}, "Task 't'")
    assert expand.resolve({}, 1) == {"x": ("k2", 2)}


def test_map_zip_and_concat_resolve_only_the_item_needed():
    with DAG("d", schedule=None, start_date=START):
        s, o = source(), other()
        mapped = s.map(lambda v: v * 10)
        zipped = s.zip(o)
        longest = s.zip(o, fillvalue="-")
        joined = s.concat(o)
    ti = XComs({("source", -1): [1, 2, 3], ("other", -1): ["a", "b"]})
    context = {"ti": ti}
    assert list(mapped.resolve(context)) == [10, 20, 30]
    assert list(zipped.resolve(context)) == [(1, "a"), (2, "b")]
    assert longest.resolve(context)[2] == (3, "-") and len(longest.resolve(context)) == 3
    assert joined.resolve(context)[3] == "a" and len(joined.resolve(context)) == 5
    expand = DictOfListsExpandInput({"x": mapped}, "Task 't'")
    assert expand.resolve(context, 2) == {"x": 30}


def test_expand_kwargs_gives_the_kth_dict_and_refuses_others():
    expand = ListOfDictsExpandInput([{"x": 1}, {"x": 2, "y": 3}], "Task 't'")
    assert expand.resolve({}, 1) == {"x": 2, "y": 3}
    with DAG("d", schedule=None, start_date=START):
        s = source()
    bad = ListOfDictsExpandInput(s, "Task 't'")
    with pytest.raises(AirflowException, match="item 0 is a 'int', not a dict"):
        bad.resolve({"ti": XComs({("source", -1): [1]})}, 0)


def test_a_mapped_tasks_results_arrive_as_a_lazy_sequence_read_a_page_at_a_time():
    with DAG("d", schedule=None, start_date=START):
        mapped = work.expand(x=[1, 2, 3])
    ti = XComs({("work", 0): "a", ("work", 1): "b", ("work", 2): "c"}, map_index=-1)
    values = mapped.resolve({"ti": ti, "task": None})
    assert isinstance(values, LazyXComSequence)
    assert ti.requests == []  # nothing pulled before it is used
    assert len(values) == 3 and values[-1] == "c" and values[0:2] == ["a", "b"]
    assert list(values) == ["a", "b", "c"]
    assert materialize({"all": values}) == {"all": ["a", "b", "c"]}
    with pytest.raises(IndexError):
        values[3]
