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
