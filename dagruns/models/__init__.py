"""The metadata model: DAGs, runs, task instances and what surrounds them."""

from dagruns.models.asset import (
    AssetAliasModel,
    AssetDagRunQueue,
    AssetEvent,
    AssetModel,
    AssetWatcherModel,
    DagScheduleAssetAliasReference,
    DagScheduleAssetNameReference,
    DagScheduleAssetReference,
    DagScheduleAssetUriReference,
    TaskInletAssetReference,
    TaskOutletAssetReference,
)
from dagruns.models.backfill import (
    Backfill,
    BackfillDagRunExceptionReason,
    BackfillDagRunMap,
    ReprocessBehavior,
)
from dagruns.models.bookkeeping import AuditEvent, DagImportError, Job
from dagruns.models.callbacks import DagCallbackRequest
from dagruns.models.dag import DagFavorite, DagFile, DagModel, DagTag, DagVersion
from dagruns.models.dagrun import DagRun
from dagruns.models.pool import DEFAULT_POOL_NAME, Pool
from dagruns.models.reschedule import TaskReschedule
from dagruns.models.secrets import Connection, Variable
from dagruns.models.states import (
    DagRunState,
    DagRunTriggeredBy,
    DagRunType,
    TaskInstanceState,
)
from dagruns.models.taskinstance import TaskInstance, TaskInstanceHistory
from dagruns.models.trigger import Trigger
from dagruns.models.xcom import XCOM_RETURN_KEY, XCom

__all__ = [
    "AssetAliasModel",
    "AssetDagRunQueue",
    "AssetEvent",
    "AssetModel",
    "AssetWatcherModel",
    "DagScheduleAssetAliasReference",
    "DagScheduleAssetNameReference",
    "DagScheduleAssetReference",
    "DagScheduleAssetUriReference",
    "TaskInletAssetReference",
    "TaskOutletAssetReference",
    "DEFAULT_POOL_NAME",
    "XCOM_RETURN_KEY",
    "AuditEvent",
    "Backfill",
    "BackfillDagRunExceptionReason",
    "BackfillDagRunMap",
    "Connection",
    "DagCallbackRequest",
    "DagFavorite",
    "DagFile",
    "DagImportError",
    "DagModel",
    "DagRun",
    "DagRunState",
    "DagRunTriggeredBy",
    "DagRunType",
    "DagTag",
    "DagVersion",
    "Job",
    "Pool",
    "ReprocessBehavior",
    "TaskInstance",
    "TaskInstanceHistory",
    "TaskInstanceState",
    "Trigger",
    "TaskReschedule",
    "Variable",
    "XCom",
]
