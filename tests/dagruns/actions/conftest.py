from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_orch_dirs(orch_settings, tmp_path):
    """Logs and the scheduler wake-up registry under the test's own directory."""
    orch_settings.home = tmp_path
    orch_settings.log_dir = tmp_path / "logs"
    return tmp_path
