"""The core operators: Empty, Python, Bash, BranchPython and ShortCircuit."""

from .base_branch import BaseBranchOperator
from .bash import BashOperator
from .branch import BranchPythonOperator
from .datetime import BranchDateTimeOperator
from .email import EmailOperator
from .empty import EmptyOperator
from .latest_only import LatestOnlyOperator
from .python import PythonOperator
from .python_virtualenv import (
    BranchExternalPythonOperator,
    BranchPythonVirtualenvOperator,
    ExternalPythonOperator,
    PythonVirtualenvOperator,
)
from .short_circuit import ShortCircuitOperator
from .trigger_dagrun import TriggerDagRunOperator
from .weekday import BranchDayOfWeekOperator

__all__ = [
    "BranchExternalPythonOperator",
    "BranchPythonVirtualenvOperator",
    "ExternalPythonOperator",
    "PythonVirtualenvOperator",
    "BaseBranchOperator",
    "BranchDateTimeOperator",
    "BranchDayOfWeekOperator",
    "LatestOnlyOperator",
    "BashOperator",
    "BranchPythonOperator",
    "EmailOperator",
    "EmptyOperator",
    "PythonOperator",
    "ShortCircuitOperator",
    "TriggerDagRunOperator",
]
