"""`import airflow...` resolves to our SDK through the table; what we lack is an ImportError
that names it, at the import line."""

from __future__ import annotations

import importlib

import pytest

import dagruns.sdk
from dagruns.sdk.airflow_compat.finder import resolve_target
from dagruns.sdk.airflow_compat.table import MODULES

pytestmark = pytest.mark.usefixtures("shim")

# Names other parts of issue 13 (and the assets and sensors issues) add to dagruns.sdk; the
# table lists them so they resolve once they exist. Anything else that does not resolve is a
# typo in the table.
ADDED_ELSEWHERE = {
    # assets
    "Asset", "AssetAlias", "AssetAll", "AssetAny", "AssetWatcher", "Metadata", "asset",
    "AssetTriggeredTimetable", "ContinuousTimetable", "Dataset", "DatasetAlias", "DatasetAll",
    # sensors and triggers
    "BaseSensorOperator", "PokeReturnValue", "BashSensor", "DateTimeSensor",
    "DateTimeSensorAsync", "ExternalTaskSensor", "ExternalTaskMarker", "FileSensor",
    "PythonSensor", "TimeSensor", "TimeSensorAsync", "TimeDeltaSensor", "TimeDeltaSensorAsync",
    "WaitSensor", "DayOfWeekSensor", "DateTimeTrigger", "TimeDeltaTrigger", "FileTrigger",
    "WorkflowTrigger", "DagStateTrigger", "task.sensor",
    # task-side API
    "Variable", "Connection", "BaseHook", "get_current_context", "Context",
    "get_parsing_context",
    # standard operators
    "LatestOnlyOperator", "BranchDateTimeOperator", "BranchDayOfWeekOperator", "WeekDay",
    "Label", "EdgeModifier", "chain_linear", "PythonVirtualenvOperator",
    "ExternalPythonOperator", "BranchPythonVirtualenvOperator", "BranchExternalPythonOperator",
    "task.virtualenv", "task.external_python", "task.branch_virtualenv",
    "task.branch_external_python", "TriggerDagRunOperator", "BaseBranchOperator",
    "SmoothOperator", "SubprocessHook", "SubprocessResult",
    # not planned in issue 13 (each an ImportError naming it until someone adds it)
    "BaseNotifier", "BaseOperatorLink", "literal", "BaseAsyncOperator",
    "AirflowSensorTimeout", "AirflowNotFoundException", "AirflowRescheduleException",
    "AirflowTaskTerminated", "TaskDeferred", "XComNotFound",
    "TaskInstance", "DagRun", "XCom", "DagBag", "Pool",
}  # fmt: skip


def test_airflow_3_spelling_gives_the_sdk_objects_themselves():
    from airflow.sdk import DAG, BaseOperator, TaskGroup, chain, dag, task
    from airflow.sdk.definitions.dag import DAG as DefinitionsDAG

    assert DAG is dagruns.sdk.DAG is DefinitionsDAG
    assert (task, dag, chain, TaskGroup, BaseOperator) == (
        dagruns.sdk.task,
        dagruns.sdk.dag,
        dagruns.sdk.chain,
        dagruns.sdk.TaskGroup,
        dagruns.sdk.BaseOperator,
    )


def test_standard_provider_and_airflow_2_paths_resolve():
    from airflow.models import DAG as ModelsDAG
    from airflow.operators.dummy import DummyOperator
    from airflow.operators.python import PythonOperator
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.utils.trigger_rule import TriggerRule

    assert BashOperator is dagruns.sdk.BashOperator
    assert PythonOperator is dagruns.sdk.PythonOperator
    assert DummyOperator is EmptyOperator is dagruns.sdk.EmptyOperator
    assert TriggerRule is dagruns.sdk.TriggerRule
    assert ModelsDAG is dagruns.sdk.DAG


def test_every_module_of_the_table_imports():
    for module in MODULES:
        assert importlib.import_module(module).__name__ == module


def test_every_table_entry_resolves_unless_another_part_adds_it():
    unresolved = set()
    for entries in MODULES.values():
        for name, target in entries.items():
            try:
                resolve_target(target)
            except LookupError:
                attribute = target.partition(":")[2]
                unresolved.add(attribute if attribute.startswith("task.") else name)
    assert unresolved - ADDED_ELSEWHERE == set()


def test_a_name_we_lack_is_an_import_error_naming_it():
    with pytest.raises(
        ImportError, match=r"`airflow\.sdk\.NoSuchThing` is not supported by orchestrator yet"
    ):
        from airflow.sdk import NoSuchThing  # noqa: F401


def test_a_listed_name_the_sdk_does_not_have_yet_is_an_import_error_naming_it(monkeypatch):
    monkeypatch.delattr(dagruns.sdk, "Asset", raising=False)
    with pytest.raises(ImportError, match=r"`airflow\.sdk\.Asset` is not supported"):
        from airflow.sdk import Asset  # noqa: F401


def test_a_module_we_lack_is_an_import_error_naming_it():
    with pytest.raises(ImportError, match=r"`airflow\.providers\.amazon` is not supported"):
        import airflow.providers.amazon.aws.operators.s3  # noqa: F401


def test_a_name_added_to_the_sdk_later_resolves_at_once(monkeypatch):
    class LabelAddedLater:
        pass

    monkeypatch.setattr(dagruns.sdk, "Label", LabelAddedLater, raising=False)
    from airflow.sdk import Label
    from airflow.utils.edgemodifier import Label as OldLabel

    assert Label is OldLabel is LabelAddedLater


def test_star_import_brings_the_names_that_resolve_now():
    namespace: dict = {}
    exec("from airflow.sdk import *", namespace)
    assert namespace["DAG"] is dagruns.sdk.DAG and namespace["task"] is dagruns.sdk.task
    assert "__version__" not in namespace


def test_dunder_probes_are_plain_attribute_errors():
    import airflow.sdk

    assert not hasattr(airflow.sdk, "__wrapped__")
    assert airflow.sdk.__path__ == []


def test_submodules_are_reachable_as_attributes():
    import airflow

    assert airflow.models.baseoperator.chain is dagruns.sdk.chain
    assert airflow.__version__.startswith("3.")


def test_decorator_modules_give_the_task_decorator_of_their_kind():
    from airflow.providers.standard.decorators.bash import bash_task
    from airflow.providers.standard.decorators.python import python_task

    assert python_task == dagruns.sdk.task.python and bash_task == dagruns.sdk.task.bash


def test_airflow_3_s_generated_enums_module_gives_our_enums():
    from airflow.sdk.api.datamodels._generated import DagRunState, TriggerRule
    from airflow.utils.state import DagRunState as OldDagRunState

    assert TriggerRule is dagruns.sdk.TriggerRule
    assert DagRunState is OldDagRunState and DagRunState.SUCCESS == "success"


def test_probing_for_a_module_we_lack_answers_absent_instead_of_raising():
    import importlib.util

    assert importlib.util.find_spec("airflow.providers.amazon") is None
    assert importlib.util.find_spec("airflow.providers.standard.operators.bash") is not None


def test_airflows_run_types_compare_with_a_runs_run_type():
    from airflow.utils.types import DagRunType

    assert DagRunType.MANUAL == "manual" and str(DagRunType.BACKFILL_JOB) == "backfill"
    assert DagRunType.from_run_id("scheduled__2024-01-01") is DagRunType.SCHEDULED
    assert DagRunType.from_run_id("my_own_id") is DagRunType.MANUAL
    assert DagRunType.ASSET_TRIGGERED.generate_run_id(suffix="x") == "asset_triggered__x"


def test_skip_mixin_resolves_at_airflow_3_airflow_2_and_the_providers_paths():
    from airflow.exceptions import DownstreamTasksSkipped
    from airflow.models.skipmixin import SkipMixin as Airflow2SkipMixin
    from airflow.providers.standard.utils.skipmixin import XCOM_SKIPMIXIN_KEY
    from airflow.providers.standard.utils.skipmixin import SkipMixin as ProviderSkipMixin
    from airflow.sdk.bases.skipmixin import SkipMixin
    from airflow.sdk.exceptions import DownstreamTasksSkipped as SdkDownstreamTasksSkipped

    from dagruns.sdk import skipmixin

    assert SkipMixin is Airflow2SkipMixin is ProviderSkipMixin is skipmixin.SkipMixin
    assert DownstreamTasksSkipped is SdkDownstreamTasksSkipped is dagruns.sdk.DownstreamTasksSkipped
    assert XCOM_SKIPMIXIN_KEY == "skipmixin_key"
