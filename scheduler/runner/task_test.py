"""What `manage.py tasks test` asks of the tries it runs (Airflow's `airflow tasks test`):
the context's `test_mode` is True, `AIRFLOW_TEST_MODE=True` and the `--env-vars` are in the
task's environment, and the `--task-params` are merged into the task's params.

Not part of the workload: only the foreground executor (this machine, this command) passes
it to the runners it forks, so no try elsewhere is ever in test mode.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TaskTest:
    env_vars: dict[str, str] = field(default_factory=dict)
    task_params: dict[str, Any] = field(default_factory=dict)

    def apply_environment(self) -> None:
        """In the task process, before the DAG file is imported (as Airflow sets them)."""
        os.environ.update({"AIRFLOW_TEST_MODE": "True", **self.env_vars})

    def apply_params(self, task: Any) -> None:
        """Airflow's: the task's params updated with the given ones (validated with the rest
        when the context is built)."""
        if self.task_params:
            task.params.update(self.task_params)
