"""Which Airflow module offers which name, and where that name lives in our SDK.

One table, read by the import finder (``finder.py``): ``MODULES[airflow_module][name]`` is a
*target*, ``"python.module:attribute.path"`` (an attribute, looked up only when a DAG file asks
for it) or ``"python.module"`` (a whole module). Nothing here is imported eagerly, so a name
another part of the SDK adds later (``dagruns.sdk.Label`` ...) resolves as soon as it exists,
and a name that does not exist yet is an ImportError naming it at the DAG file's import line.

Module names are Airflow's own (Airflow 3's ``airflow.sdk`` and standard provider, and the
Airflow 2 paths most DAG files still use); see Airflow's ``task-sdk/src/airflow/sdk/__init__.py``
and ``providers/common/compat/sdk.py`` for the lists this follows.
"""

from __future__ import annotations

SDK = "dagruns.sdk"
COMPAT = "dagruns.sdk.airflow_compat"
TIMETABLES = "dagruns.sdk.timetables"


def names(target_module: str, *attributes: str, **renamed: str) -> dict[str, str]:
    """``{name: "target_module:name"}`` for each name, plus ``{alias: "target_module:real"}``."""
    table = {attribute: f"{target_module}:{attribute}" for attribute in attributes}
    table.update({alias: f"{target_module}:{real}" for alias, real in renamed.items()})
    return table


def merged(*tables: dict[str, str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for table in tables:
        result.update(table)
    return result


# -- groups of names several Airflow modules offer ---------------------------------------

EXCEPTIONS = names(
    SDK,
    "AirflowException",
    "AirflowSkipException",
    "AirflowFailException",
    "AirflowTaskTimeout",
    "AirflowSensorTimeout",
    "AirflowNotFoundException",
    "AirflowRescheduleException",
    "AirflowTaskTerminated",
    "AirflowDagCycleException",
    "AirflowDagDuplicatedIdException",
    "DuplicateTaskIdFound",
    "TaskNotFound",
    "ParamValidationError",
    "TaskDeferred",
    "TaskDeferralError",
    "TaskDeferralTimeout",
    "XComNotFound",
    "DownstreamTasksSkipped",
    "DagRunAlreadyExists",
)

ASSETS = merged(
    names(SDK, "Asset", "AssetAlias", "AssetAll", "AssetAny", "AssetWatcher", "Metadata"),
    names(f"{SDK}.assets", "AssetAccessControl"),
)
# Airflow 3 keeps `airflow.datasets` as deprecated aliases of the asset classes.
DATASETS = names(
    SDK, Dataset="Asset", DatasetAlias="AssetAlias", DatasetAll="AssetAll", DatasetAny="AssetAny"
)
ASSET_TIMETABLES = names(SDK, "AssetOrTimeSchedule")
SKIPMIXIN = names(
    f"{SDK}.skipmixin",
    "SkipMixin",
    "XCOM_SKIPMIXIN_KEY",
    "XCOM_SKIPMIXIN_SKIPPED",
    "XCOM_SKIPMIXIN_FOLLOWED",
)

MAPPED_OPERATOR = names(f"{SDK}.mappedoperator", "MappedOperator")
OPERATOR_HELPERS = names(SDK, "BaseOperator", "chain", "chain_linear", "cross_downstream")
DECORATORS = names(SDK, "dag", "task", "task_group", "setup", "teardown")
STATES = names(f"{COMPAT}.states", "DagRunState", "TaskInstanceState", "State")
TIMEZONE = f"{COMPAT}.timezone"

TIMETABLE_BASE = names(TIMETABLES, "Timetable", "DataInterval", "DagRunInfo", "TimeRestriction")
TRIGGER_TIMETABLES = names(
    TIMETABLES, "CronTriggerTimetable", "DeltaTriggerTimetable", "MultipleCronTriggerTimetable"
)
INTERVAL_TIMETABLES = names(TIMETABLES, "CronDataIntervalTimetable", "DeltaDataIntervalTimetable")
EVENTS_TIMETABLES = names(TIMETABLES, "EventsTimetable")
SIMPLE_TIMETABLES = merged(
    names(TIMETABLES, "NullTimetable", "OnceTimetable"),
    names(SDK, "ContinuousTimetable", "AssetTriggeredTimetable"),
)

PYTHON_OPERATORS = names(
    SDK,
    "PythonOperator",
    "BranchPythonOperator",
    "ShortCircuitOperator",
    "PythonVirtualenvOperator",
    "ExternalPythonOperator",
    "BranchPythonVirtualenvOperator",
    "BranchExternalPythonOperator",
    "get_current_context",
)

SENSORS: dict[str, dict[str, str]] = {
    "bash": names(SDK, "BashSensor"),
    "date_time": names(SDK, "DateTimeSensor", "DateTimeSensorAsync"),
    "external_task": names(SDK, "ExternalTaskSensor", "ExternalTaskMarker"),
    "filesystem": names(SDK, "FileSensor"),
    "python": names(SDK, "PythonSensor"),
    "time": names(SDK, "TimeSensor", "TimeSensorAsync"),
    "time_delta": names(SDK, "TimeDeltaSensor", "TimeDeltaSensorAsync", "WaitSensor"),
    "weekday": names(SDK, "DayOfWeekSensor"),
}

SENSOR_BASE = merged(
    names(SDK, "BaseSensorOperator", "PokeReturnValue"),
    names(f"{SDK}.sensors.base", "poke_mode_only"),
)
# The standard provider's exceptions module (what its ExternalTaskSensor raises).
STANDARD_EXCEPTIONS = names(
    f"{SDK}.sensors.external_task",
    "DuplicateStateError",
    "ExternalDagDeletedError",
    "ExternalDagFailedError",
    "ExternalDagNotFoundError",
    "ExternalTaskFailedError",
    "ExternalTaskGroupFailedError",
    "ExternalTaskNotFoundError",
    "ExternalTaskGroupNotFoundError",
)

STANDARD_OPERATORS: dict[str, dict[str, str]] = {
    "bash": names(SDK, "BashOperator"),
    "python": PYTHON_OPERATORS,
    "empty": names(SDK, "EmptyOperator"),
    "branch": merged(
        names(f"{SDK}.operators.branch", "BranchMixIn"), names(SDK, "BaseBranchOperator")
    ),
    "latest_only": names(SDK, "LatestOnlyOperator"),
    "datetime": names(SDK, "BranchDateTimeOperator"),
    "weekday": names(SDK, "BranchDayOfWeekOperator"),
    "trigger_dagrun": names(SDK, "TriggerDagRunOperator"),
    "smooth": names(SDK, "SmoothOperator"),
}

# The standard provider's decorator modules define one function each; it is `task.<kind>`.
STANDARD_DECORATORS: dict[str, dict[str, str]] = {
    "python": {"python_task": f"{SDK}:task.python"},
    "bash": {"bash_task": f"{SDK}:task.bash"},
    "branch_python": {"branch_task": f"{SDK}:task.branch"},
    "short_circuit": {"short_circuit_task": f"{SDK}:task.short_circuit"},
    "python_virtualenv": {"virtualenv_task": f"{SDK}:task.virtualenv"},
    "external_python": {"external_python_task": f"{SDK}:task.external_python"},
    "branch_virtualenv": {"branch_virtualenv_task": f"{SDK}:task.branch_virtualenv"},
    "branch_external_python": {"branch_external_python_task": f"{SDK}:task.branch_external_python"},
    "sensor": {"sensor_task": f"{SDK}:task.sensor"},
}

STANDARD_TRIGGERS: dict[str, dict[str, str]] = {
    "temporal": names(SDK, "DateTimeTrigger", "TimeDeltaTrigger"),
    "file": names(
        f"{SDK}.triggers", "FileTrigger", "FileDeleteTrigger", "DirectoryFileDeleteTrigger"
    ),
    "external_task": names(SDK, "WorkflowTrigger", "DagStateTrigger"),
}

RETRY_POLICY = names(
    f"{SDK}.retry_policy",
    "ExceptionRetryPolicy",
    "RetryAction",
    "RetryDecision",
    "RetryPolicy",
    "RetryRule",
)
# What DAG code names in type hints (a Protocol, as Airflow 3's `airflow.sdk.TaskInstance`).
TASK_INSTANCE = names(f"{SDK}.types", "TaskInstance")
CONFIGURATION = f"{SDK}.configuration"
# Airflow 3's `airflow.sdk.io`, and Airflow 2's `airflow.io` (which Airflow 3 keeps as aliases).
IO = f"{SDK}.io"
SDK_IO_MODULES: dict[str, dict[str, str]] = {
    "": names(IO, "ObjectStoragePath", "attach", "get_fs", "has_fs", "Properties"),
    ".path": names(IO, "ObjectStoragePath"),
    ".store": names(IO, "ObjectStore", "attach"),
    ".fs": names(IO, "get_fs", "has_fs"),
    ".typedef": names(IO, "Properties"),
}
AIRFLOW2_IO_MODULES: dict[str, dict[str, str]] = {
    "": names(IO, "attach", "get_fs", "has_fs", "Properties"),
    ".path": names(IO, "ObjectStoragePath"),
    ".storage": names(IO, "attach"),
    ".typedef": names(IO, "Properties"),
}
CONFIG_EXCEPTION = names(f"{SDK}.exceptions", "AirflowConfigException")

# Airflow 3's `airflow.sdk` (its __init__'s lazy imports).
AIRFLOW_SDK = merged(
    names(
        SDK,
        "DAG",
        "BaseHook",
        "BaseNotifier",
        "BaseOperatorLink",
        "BaseSensorOperator",
        "Connection",
        "Context",
        "EdgeModifier",
        "Label",
        "Param",
        "ParamsDict",
        "PokeReturnValue",
        "TaskGroup",
        "TriggerRule",
        "Variable",
        "WeightRule",
        "XComArg",
        "get_current_context",
        "get_parsing_context",
        "literal",
        "asset",
    ),
    ASSET_TIMETABLES,
    OPERATOR_HELPERS,
    DECORATORS,
    ASSETS,
    names(f"{COMPAT}.states", "DagRunState", "TaskInstanceState"),
    TRIGGER_TIMETABLES,
    INTERVAL_TIMETABLES,
    EVENTS_TIMETABLES,
    {"__version__": f"{COMPAT}.version:AIRFLOW_VERSION", "timezone": TIMEZONE},
    names(CONFIGURATION, "conf"),
    names(f"{SDK}.io", "ObjectStoragePath"),
    RETRY_POLICY,
    STANDARD_OPERATORS["branch"],
    {"macros": f"{SDK}.macros"},
    TASK_INSTANCE,
)

TIMEZONE_FUNCTIONS = names(
    TIMEZONE,
    "utc",
    "utcnow",
    "datetime",
    "make_aware",
    "make_naive",
    "convert_to_utc",
    "coerce_datetime",
    "parse",
    "is_localized",
    "is_naive",
)


def _standard_provider() -> dict[str, dict[str, str]]:
    base = "airflow.providers.standard"
    table: dict[str, dict[str, str]] = {
        base: {},
        f"{base}.operators": {},
        f"{base}.sensors": {},
        f"{base}.triggers": {},
        f"{base}.decorators": {},
        f"{base}.utils": {},
        f"{base}.utils.weekday": names(SDK, "WeekDay"),
        f"{base}.utils.skipmixin": SKIPMIXIN,
        f"{base}.hooks": {},
        f"{base}.hooks.subprocess": names(SDK, "SubprocessHook", "SubprocessResult"),
        f"{base}.hooks.filesystem": names(SDK, "FSHook"),
        f"{base}.exceptions": STANDARD_EXCEPTIONS,
    }
    for kind, group in (
        ("operators", STANDARD_OPERATORS),
        ("sensors", SENSORS),
        ("triggers", STANDARD_TRIGGERS),
        ("decorators", STANDARD_DECORATORS),
    ):
        for module, entries in group.items():
            table[f"{base}.{kind}.{module}"] = entries
    return table


EMAIL_OPERATOR = names(f"{SDK}.operators.email", "EmailOperator")
SMTP_HOOK = names(f"{SDK}.smtp_hook", "SmtpHook")


def _smtp_provider() -> dict[str, dict[str, str]]:
    """Airflow 3's SMTP provider (its notifier, SmtpNotifier, is not offered)."""
    base = "airflow.providers.smtp"
    return {
        base: {},
        f"{base}.hooks": {},
        f"{base}.hooks.smtp": SMTP_HOOK,
        f"{base}.operators": {},
        f"{base}.operators.smtp": EMAIL_OPERATOR,
    }


# Airflow names refused with a reason of their own (the finder's ImportError says it): they
# exist in Airflow but cannot work as Airflow's do in a task process here.
SERVER_SMTP = (
    "sends through the deployment's [email]/[smtp] configuration, whose SMTP credentials are "
    "server secrets a task process never receives here; use EmailOperator (or SmtpHook) with "
    "an smtp connection (conn_id, default 'smtp_default') instead"
)
REFUSED: dict[str, str] = {
    "airflow.utils.email.send_email": SERVER_SMTP,
    "airflow.utils.email.send_email_smtp": SERVER_SMTP,
    "airflow.utils.email.send_mime_email": SERVER_SMTP,
}


def _airflow2() -> dict[str, dict[str, str]]:
    """Paths of Airflow 2 that most DAG files still import (Airflow 3 keeps many of them as
    deprecated aliases)."""
    operators = {
        "airflow.operators": {},
        "airflow.operators.bash": STANDARD_OPERATORS["bash"],
        "airflow.operators.bash_operator": STANDARD_OPERATORS["bash"],
        "airflow.operators.python": PYTHON_OPERATORS,
        "airflow.operators.python_operator": PYTHON_OPERATORS,
        "airflow.operators.empty": STANDARD_OPERATORS["empty"],
        "airflow.operators.dummy": names(SDK, "EmptyOperator", DummyOperator="EmptyOperator"),
        "airflow.operators.dummy_operator": names(SDK, DummyOperator="EmptyOperator"),
        "airflow.operators.branch": STANDARD_OPERATORS["branch"],
        "airflow.operators.latest_only": STANDARD_OPERATORS["latest_only"],
        "airflow.operators.datetime": STANDARD_OPERATORS["datetime"],
        "airflow.operators.weekday": STANDARD_OPERATORS["weekday"],
        "airflow.operators.trigger_dagrun": STANDARD_OPERATORS["trigger_dagrun"],
        "airflow.operators.smooth": STANDARD_OPERATORS["smooth"],
        "airflow.operators.email": EMAIL_OPERATOR,
        "airflow.operators.email_operator": EMAIL_OPERATOR,
    }
    sensors: dict[str, dict[str, str]] = {
        "airflow.sensors": {},
        "airflow.sensors.base": SENSOR_BASE,
        "airflow.sensors.time_sensor": SENSORS["time"],
    }
    for module, entries in SENSORS.items():
        sensors[f"airflow.sensors.{module}"] = entries
    models = {
        "airflow.models": merged(
            names(SDK, "DAG", "Param", "Variable", "Connection", "XComArg"),
            MAPPED_OPERATOR,
            OPERATOR_HELPERS,
            # Rows of the database, which task code never touches here: listed so the error
            # names them (and they resolve if the SDK ever offers them).
            names(SDK, "DagRun", "XCom", "DagBag", "Pool"),
            # Airflow's ORM class; task code uses it for type hints (Airflow 3 gives tasks no
            # database access either): the task instance Protocol.
            TASK_INSTANCE,
        ),
        "airflow.models.dag": names(SDK, "DAG", "dag"),
        "airflow.models.baseoperator": merged(OPERATOR_HELPERS, names(SDK, "BaseOperatorLink")),
        "airflow.models.param": names(SDK, "Param", "ParamsDict"),
        "airflow.models.variable": names(SDK, "Variable"),
        "airflow.models.connection": names(SDK, "Connection"),
        "airflow.models.xcom_arg": names(SDK, "XComArg"),
        "airflow.models.mappedoperator": MAPPED_OPERATOR,
        "airflow.models.taskinstance": TASK_INSTANCE,
        "airflow.models.dagrun": names(SDK, "DagRun"),
        "airflow.models.skipmixin": SKIPMIXIN,
    }
    utils = {
        "airflow.utils": {},
        "airflow.utils.trigger_rule": names(SDK, "TriggerRule"),
        "airflow.utils.weight_rule": names(SDK, "WeightRule"),
        "airflow.utils.task_group": names(SDK, "TaskGroup"),
        "airflow.utils.edgemodifier": names(SDK, "EdgeModifier", "Label"),
        "airflow.utils.dates": names(f"{COMPAT}.dates", "days_ago", "cron_presets"),
        "airflow.utils.timezone": TIMEZONE_FUNCTIONS,
        "airflow.utils.helpers": names(SDK, "chain", "cross_downstream"),
        "airflow.utils.weekday": names(SDK, "WeekDay"),
        "airflow.utils.state": STATES,
        "airflow.utils.types": names(f"{COMPAT}.states", "DagRunType"),
        "airflow.utils.context": names(SDK, "Context"),
        "airflow.utils.dag_parsing_context": names(SDK, "get_parsing_context"),
        # Served so that importing its refused names says why (REFUSED).
        "airflow.utils.email": {},
    }
    return {
        "airflow.decorators": DECORATORS,
        "airflow.decorators.base": names(
            f"{SDK}.decorators", "DecoratedOperator", "get_unique_task_id"
        ),
        "airflow.exceptions": merged(EXCEPTIONS, CONFIG_EXCEPTION),
        **{f"airflow.io{suffix}": entries for suffix, entries in AIRFLOW2_IO_MODULES.items()},
        "airflow.configuration": merged(
            names(CONFIGURATION, "conf", "AirflowConfigParser", "get_airflow_home", "AIRFLOW_HOME"),
            CONFIG_EXCEPTION,
        ),
        "airflow.hooks": {},
        "airflow.notifications": {},
        "airflow.notifications.basenotifier": names(SDK, "BaseNotifier"),
        "airflow.hooks.base": names(SDK, "BaseHook"),
        "airflow.hooks.filesystem": names(SDK, "FSHook"),
        "airflow.settings": names(
            f"{COMPAT}.settings", "DAGS_FOLDER", "PLUGINS_FOLDER", "AIRFLOW_HOME", "TIMEZONE"
        ),
        "airflow.hooks.subprocess": names(SDK, "SubprocessHook", "SubprocessResult"),
        "airflow.macros": names(
            f"{SDK}.macros",
            "ds_add",
            "ds_format",
            "datetime",
            "timedelta",
            "json",
            "random",
            "time",
            "uuid",
        ),
        "airflow.datasets": merged(DATASETS, names(SDK, "Asset")),
        **operators,
        **sensors,
        **models,
        **utils,
    }


def _airflow_sdk() -> dict[str, dict[str, str]]:
    definitions = "airflow.sdk.definitions"
    return {
        "airflow.sdk": AIRFLOW_SDK,
        # The task SDK's runtime error (a failed Variable/Connection request) lives only here.
        "airflow.sdk.exceptions": merged(
            EXCEPTIONS, CONFIG_EXCEPTION, names(SDK, "AirflowRuntimeError", "ErrorType")
        ),
        **{f"airflow.sdk.io{suffix}": entries for suffix, entries in SDK_IO_MODULES.items()},
        "airflow.sdk.configuration": merged(
            names(CONFIGURATION, "conf", "get_airflow_home"),
            names(CONFIGURATION, AirflowSDKConfigParser="AirflowConfigParser"),
        ),
        # Where Airflow 3 defines its enums; its own example DAGs import TriggerRule from here.
        "airflow.sdk.api": {},
        "airflow.sdk.api.datamodels": {},
        "airflow.sdk.api.datamodels._generated": merged(
            names(SDK, "TriggerRule", "WeightRule"),
            names(f"{COMPAT}.states", "DagRunState", "TaskInstanceState"),
        ),
        "airflow.sdk.timezone": TIMEZONE_FUNCTIONS,
        "airflow.sdk.types": TASK_INSTANCE,
        "airflow.sdk.bases": {},
        "airflow.sdk.bases.operator": merged(OPERATOR_HELPERS, names(SDK, "BaseAsyncOperator")),
        "airflow.sdk.bases.sensor": SENSOR_BASE,
        "airflow.sdk.bases.hook": names(SDK, "BaseHook"),
        "airflow.sdk.bases.branch": STANDARD_OPERATORS["branch"],
        "airflow.sdk.bases.skipmixin": SKIPMIXIN,
        "airflow.sdk.bases.notifier": names(SDK, "BaseNotifier"),
        "airflow.sdk.definitions.template": names(SDK, "literal"),
        "airflow.sdk.bases.operatorlink": names(SDK, "BaseOperatorLink"),
        "airflow.sdk.bases.decorator": names(
            f"{SDK}.decorators", "DecoratedOperator", "get_unique_task_id"
        ),
        definitions: {},
        f"{definitions}.dag": names(SDK, "DAG", "dag"),
        f"{definitions}.taskgroup": merged(
            names(SDK, "TaskGroup"), names(f"{SDK}.mapped_taskgroup", "MappedTaskGroup")
        ),
        f"{definitions}.param": names(SDK, "Param", "ParamsDict"),
        f"{definitions}.baseoperator": OPERATOR_HELPERS,
        f"{definitions}.decorators": DECORATORS,
        f"{definitions}.decorators.task_group": names(SDK, "task_group"),
        f"{definitions}.edges": names(SDK, "EdgeModifier", "Label"),
        f"{definitions}.asset": merged(
            ASSETS,
            names(SDK, "Dataset", "Model"),
            names(f"{SDK}.assets", "AssetRef", "AssetNameRef", "AssetUriRef"),
        ),
        f"{definitions}.asset.decorators": names(SDK, "asset"),
        f"{definitions}.asset.access_control": names(f"{SDK}.assets", "AssetAccessControl"),
        f"{definitions}.asset.metadata": names(SDK, "Metadata"),
        f"{definitions}.timetables.assets": ASSET_TIMETABLES,
        f"{definitions}.context": names(SDK, "Context", "get_current_context"),
        f"{definitions}.xcom_arg": names(SDK, "XComArg"),
        f"{definitions}.template": names(SDK, "literal"),
        f"{definitions}.retry_policy": RETRY_POLICY,
        f"{definitions}.variable": names(SDK, "Variable"),
        f"{definitions}.connection": names(SDK, "Connection"),
        f"{definitions}.mappedoperator": MAPPED_OPERATOR,
        f"{definitions}.timetables": {},
        f"{definitions}.timetables.trigger": TRIGGER_TIMETABLES,
        f"{definitions}.timetables.interval": INTERVAL_TIMETABLES,
        f"{definitions}.timetables.events": EVENTS_TIMETABLES,
        f"{definitions}.timetables.simple": SIMPLE_TIMETABLES,
    }


def _common_compat() -> dict[str, dict[str, str]]:
    base = "airflow.providers.common.compat"
    return {
        "airflow.providers": {},
        "airflow.providers.common": {},
        base: {},
        f"{base}.sdk": merged(AIRFLOW_SDK, EXCEPTIONS, {"timezone": TIMEZONE}),
        f"{base}.standard": {},
        f"{base}.standard.operators": merged(
            names(SDK, "BaseOperator", "PythonOperator", "ShortCircuitOperator"),
            names(SDK, "get_current_context"),
        ),
        f"{base}.standard.triggers": STANDARD_TRIGGERS["temporal"],
        f"{base}.assets": ASSETS,
    }


MODULES: dict[str, dict[str, str]] = {
    "airflow": merged(
        names(SDK, "DAG", "XComArg"),
        names(SDK, "Asset", Dataset="Asset"),
        {"__version__": f"{COMPAT}.version:AIRFLOW_VERSION"},
    ),
    **_airflow_sdk(),
    **_standard_provider(),
    **_smtp_provider(),
    **_common_compat(),
    **_airflow2(),
    # Triggers: Airflow 3 keeps BaseTrigger, TriggerEvent and the task-end events in
    # airflow.triggers.base, and the
    # Airflow 2 paths of the standard triggers.
    "airflow.triggers": {},
    "airflow.triggers.base": names(
        f"{SDK}.triggers.base",
        "BaseEventTrigger",
        "BaseTaskEndEvent",
        "BaseTrigger",
        "StartTriggerArgs",
        "TaskFailedEvent",
        "TaskSkippedEvent",
        "TaskSuccessEvent",
        "TriggerEvent",
    ),
    "airflow.triggers.temporal": STANDARD_TRIGGERS["temporal"],
    "airflow.triggers.file": STANDARD_TRIGGERS["file"],
    "airflow.timetables": {},
    "airflow.timetables.base": TIMETABLE_BASE,
    "airflow.timetables.trigger": TRIGGER_TIMETABLES,
    "airflow.timetables.interval": INTERVAL_TIMETABLES,
    "airflow.timetables.events": EVENTS_TIMETABLES,
    "airflow.timetables.simple": SIMPLE_TIMETABLES,
    "airflow.timetables.assets": ASSET_TIMETABLES,
    "airflow.plugins_manager": names(f"{SDK}.plugins", "AirflowPlugin"),
    # Airflow's own example DAGs' helper module (its other example helpers, a custom timetable
    # and a custom priority weight strategy, are not offered).
    "airflow.example_dags": {},
    "airflow.example_dags.libs": {},
    "airflow.example_dags.libs.helper": names(f"{COMPAT}.example_helpers", "print_stuff"),
}
