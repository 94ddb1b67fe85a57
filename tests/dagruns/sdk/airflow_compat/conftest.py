"""The shim installed for one test, and every `airflow` module it built forgotten after it, so
tests neither depend on nor leak an installed finder."""

from __future__ import annotations

import sys

import pytest

from dagruns.sdk import airflow_compat
from dagruns.sdk.airflow_compat.finder import AirflowCompatFinder


def _forget_airflow() -> None:
    for name in [n for n in sys.modules if n == "airflow" or n.startswith("airflow.")]:
        del sys.modules[name]
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, AirflowCompatFinder)]


@pytest.fixture
def shim():
    _forget_airflow()
    assert airflow_compat.install() is True
    yield
    _forget_airflow()
