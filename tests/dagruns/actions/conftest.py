from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_orch_dirs(orch_settings, tmp_path):
    """Logs and the scheduler wake-up registry under the test's own directory."""
    orch_settings.home = tmp_path
    orch_settings.log_dir = tmp_path / "logs"
    return tmp_path


@pytest.fixture
def published(monkeypatch):
    """The change events actions publish (after commit), in order."""
    from dagruns.notify import events

    sent: list[dict] = []
    monkeypatch.setattr(events, "publish", sent.append)
    return sent


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the on-commit callbacks (events, wake-ups) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
