"""Shared fixtures for the SDK tests: an isolated DAG registry and a fake task instance."""

from __future__ import annotations

from typing import Any

import pytest

from dagruns.sdk import capture_dags


@pytest.fixture(autouse=True)
def isolated_registry():
    """Each test sees only the DAGs it auto-registers itself."""
    with capture_dags() as captured:
        yield captured


class FakeTI:
    """The duck type the runner passes as ``context["ti"]``: an in-memory XCom store."""

    def __init__(self, xcoms: dict[tuple[str, str], Any] | None = None, try_number: int = 1):
        self.xcoms: dict[tuple[str, str], Any] = dict(xcoms or {})
        self.pushed: list[tuple[str, Any]] = []
        self.try_number = try_number

    def xcom_pull(self, task_ids: str, key: str = "return_value", **_: Any) -> Any:
        return self.xcoms.get((task_ids, key))

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed.append((key, value))


@pytest.fixture
def fake_ti() -> FakeTI:
    return FakeTI()


class DictRuntime:
    """A TaskRuntime (dagruns/sdk/runtime.py) over dicts, recording every write: what the
    task runner's runtime answers, without a supervisor."""

    def __init__(self) -> None:
        self.variables: dict[str, str] = {}
        self.descriptions: dict[str, str | None] = {}
        self.connections: dict[str, dict[str, Any]] = {}
        self.masked: list[Any] = []

    def get_variable(self, key: str) -> str:
        from dagruns.sdk.exceptions import VariableNotFound

        if key not in self.variables:
            raise VariableNotFound(key)
        return self.variables[key]

    def set_variable(self, key: str, value: str, description: str | None) -> None:
        self.variables[key] = value
        self.descriptions[key] = description

    def delete_variable(self, key: str) -> None:
        self.variables.pop(key, None)

    def get_connection(self, conn_id: str) -> dict[str, Any]:
        from dagruns.sdk.exceptions import AirflowNotFoundException

        if conn_id not in self.connections:
            raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn't defined")
        return self.connections[conn_id]

    def mask(self, *values: Any) -> None:
        self.masked.extend(values)


@pytest.fixture
def task_runtime():
    """A DictRuntime installed as this process's runtime for the test."""
    from dagruns.sdk import runtime

    source = DictRuntime()
    runtime.install(source)
    yield source
    runtime.install(None)
