"""The DAG-authoring SDK: what DAG files import.

Pure Python (no Django, no database); names and defaults follow Apache Airflow 3 so DAG
files written for Airflow carry over::

    from dagruns.sdk import DAG, task
    from dagruns.sdk import BashOperator, EmptyOperator, TaskGroup, chain
"""

from .assets import (
    Asset,
    AssetAlias,
    AssetAll,
    AssetAny,
    AssetWatcher,
    Dataset,
    Metadata,
    Model,
    asset,
)
from .baseoperator import BaseOperator
from .connection import Connection
from .dag import DAG, capture_dags, collect_dags, reset_auto_registered
from .dag_decorator import dag
from .decorators import setup, task, teardown
from .dependencies import chain, chain_linear, cross_downstream
from .edges import EdgeModifier, Label
from .exceptions import (
    AirflowDagCycleException,
    AirflowDagDuplicatedIdException,
    AirflowException,
    AirflowFailException,
    AirflowNotFoundException,
    AirflowRescheduleException,
    AirflowRuntimeError,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
    DagDefinitionError,
    DagRunAlreadyExists,
    DownstreamTasksSkipped,
    DuplicateTaskIdFound,
    ErrorType,
    ParamValidationError,
    TaskDeferralError,
    TaskDeferralTimeout,
    TaskDeferred,
    TaskNotFound,
    TemplateRenderError,
)
from .hooks import BaseHook, FSHook
from .notifier import BaseNotifier
from .operators import (
    BaseBranchOperator,
    BashOperator,
    BranchDateTimeOperator,
    BranchDayOfWeekOperator,
    BranchExternalPythonOperator,
    BranchPythonOperator,
    BranchPythonVirtualenvOperator,
    EmptyOperator,
    ExternalPythonOperator,
    LatestOnlyOperator,
    PythonOperator,
    PythonVirtualenvOperator,
    ShortCircuitOperator,
    TriggerDagRunOperator,
)
from .params import Param, ParamsDict, validate_params
from .resolve import literal
from .runtime import AirflowParsingContext, Context, get_current_context, get_parsing_context
from .sensors import (
    BaseSensorOperator,
    BashSensor,
    DateTimeSensor,
    DateTimeSensorAsync,
    DayOfWeekSensor,
    ExternalTaskMarker,
    ExternalTaskSensor,
    FileSensor,
    PokeReturnValue,
    PythonSensor,
    TimeDeltaSensor,
    TimeDeltaSensorAsync,
    TimeSensor,
    TimeSensorAsync,
    WaitSensor,
)
from .serialization import SERIALIZATION_VERSION, dag_structure_hash, deserialize_dag, serialize_dag
from .serialized_operator import SerializedOperator
from .taskgroup import TaskGroup, task_group
from .timetables.assets import AssetOrTimeSchedule, AssetTriggeredTimetable
from .trigger_rule import TriggerRule
from .triggers import (
    BaseEventTrigger,
    BaseTrigger,
    DagStateTrigger,
    DateTimeTrigger,
    FileDeleteTrigger,
    FileTrigger,
    TimeDeltaTrigger,
    TriggerEvent,
    WorkflowTrigger,
)
from .variable import Variable
from .weekday import WeekDay
from .weight_rule import WeightRule
from .xcom_arg import XComArg

__all__ = [
    "Asset",
    "AssetAlias",
    "AssetAll",
    "AssetAny",
    "AssetOrTimeSchedule",
    "AssetTriggeredTimetable",
    "AssetWatcher",
    "Dataset",
    "Metadata",
    "Model",
    "asset",
    "BaseEventTrigger",
    "BaseTrigger",
    "DagStateTrigger",
    "DateTimeTrigger",
    "FileDeleteTrigger",
    "FileTrigger",
    "TaskDeferralError",
    "TaskDeferralTimeout",
    "TaskDeferred",
    "TimeDeltaTrigger",
    "TriggerEvent",
    "WorkflowTrigger",
    "AirflowRescheduleException",
    "AirflowSensorTimeout",
    "BaseSensorOperator",
    "BashSensor",
    "DateTimeSensor",
    "DateTimeSensorAsync",
    "DayOfWeekSensor",
    "ExternalTaskMarker",
    "ExternalTaskSensor",
    "FileSensor",
    "PokeReturnValue",
    "PythonSensor",
    "TimeDeltaSensor",
    "TimeDeltaSensorAsync",
    "TimeSensor",
    "TimeSensorAsync",
    "WaitSensor",
    "ErrorType",
    "Context",
    "AirflowParsingContext",
    "get_parsing_context",
    "get_current_context",
    "Variable",
    "FSHook",
    "Connection",
    "BaseHook",
    "BaseNotifier",
    "AirflowRuntimeError",
    "AirflowNotFoundException",
    "BranchExternalPythonOperator",
    "BranchPythonVirtualenvOperator",
    "ExternalPythonOperator",
    "PythonVirtualenvOperator",
    "DAG",
    "SERIALIZATION_VERSION",
    "AirflowDagCycleException",
    "AirflowDagDuplicatedIdException",
    "AirflowException",
    "AirflowFailException",
    "AirflowSkipException",
    "AirflowTaskTimeout",
    "BaseBranchOperator",
    "BaseOperator",
    "BranchDateTimeOperator",
    "BranchDayOfWeekOperator",
    "EdgeModifier",
    "Label",
    "LatestOnlyOperator",
    "WeekDay",
    "chain_linear",
    "BashOperator",
    "BranchPythonOperator",
    "DagDefinitionError",
    "DuplicateTaskIdFound",
    "EmptyOperator",
    "Param",
    "ParamValidationError",
    "ParamsDict",
    "PythonOperator",
    "SerializedOperator",
    "ShortCircuitOperator",
    "TaskGroup",
    "TaskNotFound",
    "TemplateRenderError",
    "TriggerRule",
    "WeightRule",
    "XComArg",
    "capture_dags",
    "chain",
    "collect_dags",
    "cross_downstream",
    "dag",
    "dag_structure_hash",
    "deserialize_dag",
    "reset_auto_registered",
    "serialize_dag",
    "setup",
    "task",
    "task_group",
    "teardown",
    "validate_params",
    # TriggerDagRunOperator (backfill helper's block)
    "DagRunAlreadyExists",
    "DownstreamTasksSkipped",
    "TriggerDagRunOperator",
    "literal",
]
