"""BashOperator: run a command with ``bash -c`` in a subprocess."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Container, Mapping, Sequence
from typing import Any

from ..baseoperator import BaseOperator
from ..exceptions import AirflowException, AirflowSkipException

# Context values exported to the command's environment, under Airflow's names.
_CONTEXT_ENV_VARS = {
    "AIRFLOW_CTX_DAG_ID": lambda ctx: getattr(ctx.get("dag"), "dag_id", None),
    "AIRFLOW_CTX_TASK_ID": lambda ctx: getattr(ctx.get("task"), "task_id", None),
    "AIRFLOW_CTX_DAG_RUN_ID": lambda ctx: ctx.get("run_id"),
    "AIRFLOW_CTX_LOGICAL_DATE": lambda ctx: _iso(ctx.get("logical_date")),
    "AIRFLOW_CTX_TRY_NUMBER": lambda ctx: getattr(ctx.get("ti"), "try_number", None),
    "AIRFLOW_CTX_DAG_OWNER": lambda ctx: getattr(ctx.get("task"), "owner", None),
}


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


class BashOperator(BaseOperator):
    """Runs ``bash_command``; its output lines go to the task log and the last line is
    the return value (XCom).

    A non-zero exit code fails the task, except a code in ``skip_on_exit_code`` (default
    99), which skips it. ``env`` replaces the inherited environment unless ``append_env``
    is true. A command ending in ``.sh`` or ``.bash`` is a template file to load; add a
    trailing space to run such a path as-is.
    """

    template_fields: Sequence[str] = ("bash_command", "env", "cwd")
    template_fields_renderers = {"bash_command": "bash", "env": "json"}
    template_ext: Sequence[str] = (".sh", ".bash")
    ui_color = "#f0ede4"

    def __init__(
        self,
        *,
        bash_command: str,
        env: dict[str, str] | None = None,
        append_env: bool = False,
        output_encoding: str = "utf-8",
        skip_on_exit_code: int | Container[int] | None = 99,
        cwd: str | None = None,
        output_processor: Callable[[str], Any] = lambda result: result,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        self.output_encoding = output_encoding
        if skip_on_exit_code is None:
            self.skip_on_exit_code: Container[int] = ()
        elif isinstance(skip_on_exit_code, int):
            self.skip_on_exit_code = (skip_on_exit_code,)
        else:
            self.skip_on_exit_code = skip_on_exit_code
        self.cwd = cwd
        self.output_processor = output_processor
        self._process: subprocess.Popen[bytes] | None = None

    def get_env(self, context: Mapping[str, Any]) -> dict[str, str]:
        # Values are stringified: a templated or pulled value may well be a number.
        own = {str(key): str(value) for key, value in (self.env or {}).items()}
        env = dict(os.environ) if self.env is None or self.append_env else {}
        env.update(own)
        for name, getter in _CONTEXT_ENV_VARS.items():
            value = getter(context)
            if value is not None:
                env[name] = str(value)
        return env

    def execute(self, context: Mapping[str, Any]) -> Any:
        if self.cwd is not None:
            if not os.path.exists(self.cwd):
                raise AirflowException(f"Can not find the cwd: {self.cwd}")
            if not os.path.isdir(self.cwd):
                raise AirflowException(f"The cwd {self.cwd} must be a directory")
        exit_code, last_line = self.run_command(self.bash_command, self.get_env(context))
        if exit_code in self.skip_on_exit_code:
            raise AirflowSkipException(f"Bash command returned exit code {exit_code}. Skipping.")
        if exit_code != 0:
            raise AirflowException(
                f"Bash command failed. The command returned a non-zero exit code {exit_code}."
            )
        return self.output_processor(last_line)

    def run_command(self, command: str, env: dict[str, str]) -> tuple[int, str]:
        """Run ``bash -c command``, log each output line; return (exit code, last line)."""
        with tempfile.TemporaryDirectory(prefix="orchestratortmp") as tmp_dir:
            self.log.info("Running command: %s", ["bash", "-c", command])
            process = subprocess.Popen(
                ["bash", "-c", command],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.cwd or tmp_dir,
                env=env,
                # Own process group, so on_kill can stop the command and its children.
                start_new_session=True,
            )
            self._process = process
            last_line = ""
            assert process.stdout is not None
            for raw in iter(process.stdout.readline, b""):
                last_line = raw.decode(self.output_encoding, errors="backslashreplace").rstrip("\n")
                self.log.info("%s", last_line)
            process.wait()
            self.log.info("Command exited with return code %s", process.returncode)
            self._process = None
            return process.returncode, last_line

    def on_kill(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            self.log.info("Sending SIGTERM to the bash command's process group")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(process.pid), signal.SIGTERM)
