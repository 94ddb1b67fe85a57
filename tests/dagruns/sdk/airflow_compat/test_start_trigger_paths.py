"""StartTriggerArgs resolves from Airflow's path (airflow.triggers.base), to our class."""

from __future__ import annotations

import pytest

from dagruns.sdk.triggers.base import StartTriggerArgs

pytestmark = pytest.mark.usefixtures("shim")


def test_start_trigger_args_is_importable_from_airflows_path():
    from airflow.triggers.base import StartTriggerArgs as Airflows

    assert Airflows is StartTriggerArgs
