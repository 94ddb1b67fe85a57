"""The script a virtualenv/external-Python task runs in the other interpreter.

The task's function travels as source code (as in Airflow: ``inspect.getsource``, dedented,
its decorators removed), its arguments and result as files written with the chosen
serializer. The script imports nothing of ours, so the other environment needs only the
serializer (pickle is in the standard library).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from .exceptions import DagDefinitionError


def function_source(function: Callable[..., Any]) -> str:
    """The function's ``def`` (dedented, without decorators), as it will run elsewhere."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError) as err:
        raise DagDefinitionError(
            f"Cannot read the source of {getattr(function, '__qualname__', function)!r}, "
            f"which must run in another Python environment: {err}"
        ) from None
    tree = ast.parse(source)
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef):
        raise DagDefinitionError(
            f"{getattr(function, '__qualname__', function)!r} must be a function defined with "
            "def to run in another Python environment"
        )
    lines = source.splitlines()
    # node.lineno is the `def` line; decorators above it are dropped.
    return "\n".join(lines[node.lineno - 1 : node.end_lineno]) + "\n"


_TEMPLATE = """\
# Written by orchestrator for one task try: runs {name}() in this interpreter.
import sys
import traceback

import {serializer} as _serializer

with open(sys.argv[3], encoding="utf-8") as _file:
    virtualenv_string_args = [line.strip() for line in _file]

{source}

def _orchestrator_main():
    with open(sys.argv[1], "rb") as _file:
        _call = _serializer.load(_file)
    _result = {name}(*_call["args"], **_call["kwargs"])
    with open(sys.argv[2], "wb") as _file:
        if _result is not None:
            _serializer.dump(_result, _file)


try:
    _orchestrator_main()
except Exception:
    with open(sys.argv[4], "w", encoding="utf-8") as _file:
        traceback.print_exc(file=_file)
    raise
"""


def render_script(function: Callable[..., Any], serializer: str) -> str:
    return _TEMPLATE.format(
        name=function.__name__, serializer=serializer, source=function_source(function)
    )
