from datetime import datetime

import pytest

from dagruns.sdk import (
    DAG,
    Asset,
    AssetAlias,
    AssetOrTimeSchedule,
    DagDefinitionError,
    EmptyOperator,
    asset,
    deserialize_dag,
    serialize_dag,
)
from dagruns.sdk.timetables.assets import AssetTriggeredTimetable
from dagruns.sdk.timetables.trigger import CronTriggerTimetable


def _timetable(dag):
    return dag.timetable.timetable


def test_a_list_of_assets_means_all_of_them():
    a, b = Asset("a"), Asset("b")
    dag = DAG("d", schedule=[a, b], auto_register=False)
    timetable = _timetable(dag)
    assert isinstance(timetable, AssetTriggeredTimetable)
    assert timetable.asset_condition == a & b
    assert timetable.summary == "Asset"


def test_an_alias_only_schedule_is_unresolved():
    dag = DAG("d", schedule=AssetAlias("al"), auto_register=False)
    assert _timetable(dag).summary == "Unresolved AssetAlias"


@pytest.mark.parametrize(
    ("schedule", "message"),
    [([], "empty list of assets"), ([Asset("a"), "b"], "should be assets")],
)
def test_bad_asset_schedules_are_refused(schedule, message):
    with pytest.raises(DagDefinitionError, match=message):
        DAG("d", schedule=schedule, auto_register=False)


def test_schedule_and_outlets_survive_serialization():
    a, b, alias = Asset("a"), Asset("s3://bucket/b"), AssetAlias("al")
    with DAG("d", schedule=(a | b), auto_register=False) as dag:
        EmptyOperator(task_id="t", outlets=[b, alias], inlets=a)
    data = serialize_dag(dag)
    assert data["tasks"][0]["outlets"][1] == {
        "__type": "asset_alias",
        "name": "al",
        "group": "asset",
    }
    again = deserialize_dag(data)
    assert serialize_dag(again) == data
    assert again.get_task("t").outlets == [b, alias]
    assert again.get_task("t").inlets == [a]
    assert _timetable(again).asset_condition == a | b


def test_a_task_without_assets_keeps_its_old_serialized_form():
    with DAG("d", auto_register=False) as dag:
        EmptyOperator(task_id="t")
    assert "outlets" not in serialize_dag(dag)["tasks"][0]


def test_outlets_must_be_assets():
    with DAG("d", auto_register=False), pytest.raises(DagDefinitionError, match="outlets must"):
        EmptyOperator(task_id="t", outlets=["s3://x"])


def test_asset_or_time_schedule_runs_on_its_timetable():
    cron = CronTriggerTimetable("0 0 * * *", timezone="UTC")
    dag = DAG(
        "d",
        schedule=AssetOrTimeSchedule(timetable=cron, assets=[Asset("a")]),
        start_date=datetime(2024, 1, 1),
        auto_register=False,
    )
    timetable = _timetable(dag)
    assert timetable.summary == "Asset or 0 0 * * *"
    again = deserialize_dag(serialize_dag(dag))
    assert serialize_dag(again)["schedule"] == serialize_dag(dag)["schedule"]
    assert isinstance(_timetable(again).timetable, CronTriggerTimetable)


def report(self, context):
    return self.name


def needs_upstream(upstream):
    return upstream


def test_asset_decorator_builds_a_dag_with_one_producing_task():
    produced = asset(schedule=None, uri="s3://bucket/report", auto_register=False)(report)
    assert produced.name == "report" and produced.uri == "s3://bucket/report"
    assert produced.dag.dag_id == "report"
    (task,) = produced.dag.tasks
    assert task.task_id == "report" and task.outlets == [produced]


def wildcard(*upstreams):
    return upstreams


def test_other_parameters_are_inlet_asset_refs_and_wildcards_are_refused():
    produced = asset(schedule=None, auto_register=False)(needs_upstream)
    (task,) = produced.dag.tasks
    assert task.inlets == [Asset.ref(name="upstream")]
    with pytest.raises(DagDefinitionError, match=r"wildcard '\*upstreams' is not supported"):
        asset(schedule=None)(wildcard)


def test_asset_multi_builds_one_task_with_every_outlet():
    outlets = [Asset("left"), Asset("right")]
    split = asset.multi(outlets=outlets, schedule=None, auto_register=False)(needs_upstream)
    (task,) = split.dag.tasks
    assert split.dag.dag_id == task.task_id == "needs_upstream"
    assert task.outlets == outlets and task.inlets == [Asset.ref(name="upstream")]
    assert [a.name for a in split.iter_assets()] == ["left", "right"]
    with pytest.raises(DagDefinitionError, match="no outlets provided"):
        asset.multi(outlets=[], schedule=None)
    with pytest.raises(DagDefinitionError, match="cannot be used in a schedule"):
        split.encode()


def test_asset_decorator_refuses_nested_functions():
    def nested(self):
        pass

    with pytest.raises(DagDefinitionError, match="nested functions"):
        asset(schedule=None)(nested)
