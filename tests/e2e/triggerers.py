"""Real `manage.py triggerer` processes for the engine tests: on the test's database, sharing
its ORCH_HOME (so wake-ups reach the in-process scheduler) and its DAGs folder (so trigger
classes there import)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.e2e.conftest import Engine
from tests.processes import server_env, start_triggerer


def triggerer_env(engine: Engine, live_server, orch_settings, **extra: str) -> dict[str, str]:
    return server_env(
        Path(orch_settings.home),
        int(live_server.url.rsplit(":", 1)[1]),
        ORCH_DAGS_FOLDER=str(engine.folder),
        ORCH_LOG_LEVEL="INFO",
        **extra,
    )


def start_engine_triggerer(
    engine: Engine, live_server, orch_settings, *args: str, **extra: str
) -> subprocess.Popen:
    return start_triggerer(triggerer_env(engine, live_server, orch_settings, **extra), *args)
