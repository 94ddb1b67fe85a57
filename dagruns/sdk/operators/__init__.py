"""The core operators: Empty, Python, Bash, BranchPython and ShortCircuit."""

from .bash import BashOperator
from .branch import BranchPythonOperator
from .empty import EmptyOperator
from .python import PythonOperator
from .short_circuit import ShortCircuitOperator

__all__ = [
    "BashOperator",
    "BranchPythonOperator",
    "EmptyOperator",
    "PythonOperator",
    "ShortCircuitOperator",
]
