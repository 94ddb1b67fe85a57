"""BashSensor: wait until a bash command exits 0 (the standard provider's ``sensors.bash``)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from ..exceptions import AirflowFailException
from .base import BaseSensorOperator


class BashSensor(BaseSensorOperator):
    """Each poke runs ``bash_command`` (templated) in a fresh temporary directory: exit code 0
    ends the wait. With ``retry_exit_code``, that code means "not yet" and any other non-zero
    code fails the task (AirflowFailException); without it every non-zero code is "not yet".
    ``env``, when given, replaces the inherited environment (as in Airflow)."""

    template_fields: Sequence[str] = ("bash_command", "env")

    def __init__(
        self,
        *,
        bash_command: str,
        env: dict[str, str] | None = None,
        output_encoding: str = "utf-8",
        retry_exit_code: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.output_encoding = output_encoding
        self.retry_exit_code = retry_exit_code

    def poke(self, context: Mapping[str, Any]) -> bool:
        with tempfile.TemporaryDirectory(prefix="airflowtmp") as tmp_dir:
            script = os.path.join(tmp_dir, f"{self.task_id}.sh")
            with open(script, "w", encoding="utf-8") as handle:
                handle.write(self.bash_command)
            self.log.info("Running command: %s", self.bash_command)
            with subprocess.Popen(
                ["bash", script],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=tmp_dir,
                env=self.env,
                start_new_session=True,
            ) as process:
                assert process.stdout is not None
                self.log.info("Output:")
                for line in iter(process.stdout.readline, b""):
                    self.log.info(line.decode(self.output_encoding, "replace").rstrip())
                returncode = process.wait()
        self.log.info("Command exited with return code %s", returncode)
        if returncode == 0:
            return True
        if self.retry_exit_code is not None:
            if returncode == self.retry_exit_code:
                self.log.info("Return code matches retry code, will retry later")
                return False
            raise AirflowFailException(f"Command exited with return code {returncode}")
        self.log.info("Non-zero return code and no retry code set, will retry later")
        return False
