"""Run a task's function in another Python environment: a virtualenv built from
requirements (``PythonVirtualenvOperator``, ``@task.virtualenv``) or an existing interpreter
(``ExternalPythonOperator``, ``@task.external_python``), plus their branching variants.

As in Airflow's standard provider: the function's source is run by a generated script in the
other interpreter; op_args/op_kwargs (and the serializable context keys the function names)
go there serialized, the return value comes back the same way and becomes the XCom.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import types
from collections.abc import Callable, Collection, Container, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..exceptions import AirflowException, AirflowSkipException, DagDefinitionError
from ..resolve import resolve_all
from ..venv_cache import default_cache_dir, ensure_environment, find_interpreter
from ..venv_script import render_script
from .branch import BranchMixIn
from .python import PythonOperator

SERIALIZERS = ("pickle", "cloudpickle", "dill")

# Context keys that can be handed to another interpreter (Airflow's BASE_ and
# PENDULUM_SERIALIZABLE_CONTEXT_KEYS; datetimes go as plain datetime objects).
SERIALIZABLE_CONTEXT_KEYS = frozenset(
    {
        "ds",
        "ds_nodash",
        "expanded_ti_count",
        "inlets",
        "outlets",
        "run_id",
        "task_instance_key_str",
        "test_mode",
        "ts",
        "ts_nodash",
        "ts_nodash_with_tz",
        "task_reschedule_count",
        "data_interval_end",
        "data_interval_start",
        "logical_date",
        "prev_data_interval_end_success",
        "prev_data_interval_start_success",
        "prev_start_date_success",
        "prev_end_date_success",
    }
)
# Live objects (ti, dag, task, macros ...): Airflow passes them only when Airflow itself is
# installed in the other environment; ours never has the orchestrator installed.
NOT_SERIALIZABLE_CONTEXT_KEYS = frozenset(
    {
        "macros",
        "conf",
        "dag",
        "dag_run",
        "task",
        "ti",
        "task_instance",
        "params",
        "var",
        "conn",
        "triggering_asset_events",
        "inlet_events",
        "outlet_events",
    }
)


def _plain_datetime(value: Any) -> Any:
    # pendulum's DateTime pickles as pendulum; the other environment may not have it.
    if isinstance(value, dt.datetime) and type(value) is not dt.datetime:
        return dt.datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            tzinfo=value.tzinfo and dt.timezone(value.utcoffset() or dt.timedelta()),
        )
    return value


class _BasePythonVirtualenvOperator(PythonOperator):
    """What the virtualenv and external-Python operators share: checking the function,
    the serializer and the run of the generated script."""

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        serializer: str | None = None,
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        string_args: Iterable[str] | None = None,
        templates_dict: dict[str, Any] | None = None,
        templates_exts: Sequence[str] | None = None,
        expect_airflow: bool = True,
        skip_on_exit_code: int | Container[int] | None = None,
        env_vars: dict[str, str] | None = None,
        inherit_env: bool = True,
        use_dill: bool = False,
        **kwargs: Any,
    ):
        task_id = kwargs.get("task_id")
        name = type(self).__name__
        if not isinstance(python_callable, types.FunctionType) or (
            python_callable.__name__ == "<lambda>"
        ):
            raise DagDefinitionError(
                f"{name} (task_id {task_id!r}) only supports functions defined with def for "
                "python_callable"
            )
        if inspect.isgeneratorfunction(python_callable) or inspect.iscoroutinefunction(
            python_callable
        ):
            raise DagDefinitionError(
                f"{name} (task_id {task_id!r}) does not support 'yield' or 'async def' in "
                "python_callable"
            )
        if use_dill:  # Airflow 2's spelling of serializer="dill"
            serializer = serializer or "dill"
        serializer = serializer or "pickle"
        if serializer not in SERIALIZERS:
            raise DagDefinitionError(
                f"{name} (task_id {task_id!r}): unsupported serializer {serializer!r}; "
                f"expected one of {', '.join(map(repr, SERIALIZERS))}"
            )
        super().__init__(
            python_callable=python_callable,
            op_args=op_args,
            op_kwargs=op_kwargs,
            templates_dict=templates_dict,
            templates_exts=templates_exts,
            **kwargs,
        )
        self.serializer = serializer
        self.string_args = list(string_args or [])
        self.expect_airflow = expect_airflow
        if skip_on_exit_code is None:
            self.skip_on_exit_code: Container[int] = []
        elif isinstance(skip_on_exit_code, Container):
            self.skip_on_exit_code = skip_on_exit_code
        else:
            self.skip_on_exit_code = [skip_on_exit_code]
        self.env_vars = env_vars
        self.inherit_env = inherit_env
        self._process: subprocess.Popen[str] | None = None

    # -- what subclasses decide ------------------------------------------------------

    def interpreter_path(self) -> Path:
        raise NotImplementedError

    # -- running ---------------------------------------------------------------------

    def execute(self, context: Mapping[str, Any]) -> Any:
        self.op_args = resolve_all(self.op_args, context)
        self.op_kwargs = resolve_all(self.op_kwargs, context)
        self.templates_dict = resolve_all(self.templates_dict, context)
        wanted = set(inspect.signature(self.python_callable).parameters)
        refused = sorted(wanted & NOT_SERIALIZABLE_CONTEXT_KEYS - set(self.op_kwargs))
        if refused:
            raise AirflowException(
                f"Task {self.task_id!r}: the context keys {refused} cannot be passed into "
                "another Python environment (they are live objects of the task runner); "
                f"only these can: {sorted(SERIALIZABLE_CONTEXT_KEYS)}"
            )
        passed = {
            key: _plain_datetime(value)
            for key, value in context.items()
            if key in SERIALIZABLE_CONTEXT_KEYS
        }
        return super().execute(passed)

    def execute_callable(self, kwargs: Mapping[str, Any]) -> Any:
        # The source first: a function whose source cannot be read fails before any install.
        script = render_script(self.python_callable, self.serializer)
        return self.run_in_interpreter(self.interpreter_path(), script, kwargs)

    def _serializer_module(self) -> Any:
        if self.serializer == "pickle":
            return pickle
        try:
            return __import__(self.serializer)
        except ImportError:
            raise AirflowException(
                f"Task {self.task_id!r}: serializer {self.serializer!r} is not installed "
                "where the task runs; install it or use serializer='pickle'"
            ) from None

    def run_in_interpreter(self, python: Path, script_text: str, kwargs: Mapping[str, Any]) -> Any:
        serializer = self._serializer_module()
        with tempfile.TemporaryDirectory(prefix="orch-venv-call-") as tmp:
            folder = Path(tmp)
            script, inputs, output, strings, termination = (
                folder / name
                for name in (
                    "script.py",
                    "script.in",
                    "script.out",
                    "string_args.txt",
                    "termination.log",
                )
            )
            self.log.info("Use %r as serializer.", self.serializer)
            try:
                inputs.write_bytes(serializer.dumps({"args": self.op_args, "kwargs": dict(kwargs)}))
            except Exception as err:
                raise AirflowException(
                    f"Task {self.task_id!r}: could not serialize the arguments with "
                    f"{self.serializer}: {type(err).__name__}: {err}"
                ) from None
            strings.write_text("\n".join(map(str, self.string_args)))
            script.write_text(script_text)
            env = dict(os.environ) if self.inherit_env else {}
            env.update(self.env_vars or {})
            command = [
                str(python),
                str(script),
                str(inputs),
                str(output),
                str(strings),
                str(termination),
            ]
            code, _ = self.run_process(command, env=env)
            if code in self.skip_on_exit_code:
                raise AirflowSkipException(f"Process exited with code {code}. Skipping.")
            if code != 0:
                message = f"Process returned non-zero exit status {code}."
                if termination.exists() and termination.stat().st_size:
                    message += "\n" + termination.read_text(errors="replace")
                raise AirflowException(message)
            if not output.exists() or output.stat().st_size == 0:
                return None
            try:
                return serializer.loads(output.read_bytes())
            except Exception as err:
                raise AirflowException(
                    f"Task {self.task_id!r}: could not read the function's return value "
                    f"({self.serializer}): {type(err).__name__}: {err}"
                ) from None

    def run_process(
        self, command: list[str], env: Mapping[str, str] | None = None
    ) -> tuple[int, str]:
        """Run ``command``, logging its output line by line; (exit code, output).

        Its own session, so on_kill stops it and everything it started (pip's builds)."""
        self.log.info("Running %s", " ".join(command))
        lines: list[str] = []
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
        self._process = process
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                self.log.info("%s", line.rstrip("\n"))
            code = process.wait()
        finally:
            self._process = None
        return code, "".join(lines)

    def on_kill(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)


class PythonVirtualenvOperator(_BasePythonVirtualenvOperator):
    """Runs the function in a virtualenv with ``requirements`` installed (a list of pip
    requirement strings, or one string). The environment is cached by its requirements,
    interpreter and options (see venv_cache) and reused by later tries and tasks."""

    template_fields: Sequence[str] = (
        "requirements",
        "index_urls",
        "venv_cache_path",
        "templates_dict",
        "op_args",
        "op_kwargs",
    )
    template_ext: Sequence[str] = (".txt",)

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        requirements: None | Iterable[str] | str = None,
        python_version: str | None = None,
        serializer: str | None = None,
        system_site_packages: bool = True,
        pip_install_options: list[str] | None = None,
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        string_args: Iterable[str] | None = None,
        templates_dict: dict[str, Any] | None = None,
        templates_exts: Sequence[str] | None = None,
        expect_airflow: bool = True,
        skip_on_exit_code: int | Container[int] | None = None,
        index_urls: None | Collection[str] | str = None,
        index_urls_from_connection_ids: None | Collection[str] | str = None,
        venv_cache_path: None | os.PathLike[str] | str = None,
        env_vars: dict[str, str] | None = None,
        inherit_env: bool = True,
        **kwargs: Any,
    ):
        task_id = kwargs.get("task_id")
        if python_version is not None and not isinstance(python_version, str):
            raise DagDefinitionError(
                f"Task {task_id!r}: python_version must be a string such as '3.11', got "
                f"{type(python_version).__name__}: {python_version!r}"
            )
        if (
            python_version
            and python_version[0] != str(sys.version_info.major)
            and (op_args or op_kwargs)
        ):
            raise DagDefinitionError(
                f"Task {task_id!r}: passing op_args or op_kwargs is not supported across "
                "different Python major versions; use string_args"
            )
        if index_urls_from_connection_ids:
            raise DagDefinitionError(
                f"Task {task_id!r}: index_urls_from_connection_ids is not supported by "
                "orchestrator yet (it needs the package-index connection type); pass index_urls"
            )
        if pip_install_options is not None and (
            isinstance(pip_install_options, str)
            or not all(isinstance(option, str) for option in pip_install_options)
        ):
            raise DagDefinitionError(
                f"Task {task_id!r}: pip_install_options must be a list of strings, got "
                f"{pip_install_options!r}"
            )
        if not requirements:
            self.requirements: list[str] | str = []
        elif isinstance(requirements, str):
            self.requirements = [requirements]
        else:
            self.requirements = list(requirements)
        self.python_version = python_version
        self.system_site_packages = system_site_packages
        self.pip_install_options = list(pip_install_options or [])
        if isinstance(index_urls, str):
            self.index_urls: list[str] | None = [index_urls]
        elif index_urls is not None:
            self.index_urls = list(index_urls)
        else:
            self.index_urls = None
        self.venv_cache_path = venv_cache_path
        super().__init__(
            python_callable=python_callable,
            serializer=serializer,
            op_args=op_args,
            op_kwargs=op_kwargs,
            string_args=string_args,
            templates_dict=templates_dict,
            templates_exts=templates_exts,
            expect_airflow=expect_airflow,
            skip_on_exit_code=skip_on_exit_code,
            env_vars=env_vars,
            inherit_env=inherit_env,
            **kwargs,
        )

    def requirements_list(self) -> list[str]:
        """The requirements, one per entry (a rendered requirements file is split into
        lines, comments dropped), plus the serializer when it is not pickle and the
        environment cannot see the system's packages (Airflow's rule)."""
        raw = [self.requirements] if isinstance(self.requirements, str) else self.requirements
        lines = [line.split("#", 1)[0].strip() for entry in raw for line in str(entry).splitlines()]
        requirements = [line for line in lines if line]
        wants_serializer = not self.system_site_packages and self.serializer != "pickle"
        if wants_serializer and self.serializer not in requirements:
            requirements.append(self.serializer)
        return sorted(requirements)

    def interpreter_path(self) -> Path:
        cache_dir = Path(self.venv_cache_path) if self.venv_cache_path else default_cache_dir()
        venv = ensure_environment(
            cache_dir,
            interpreter=find_interpreter(self.python_version),
            requirements=self.requirements_list(),
            system_site_packages=self.system_site_packages,
            pip_install_options=self.pip_install_options,
            index_urls=self.index_urls,
            run=self.run_process,
        )
        return venv / "bin" / "python"


class ExternalPythonOperator(_BasePythonVirtualenvOperator):
    """Runs the function with an existing interpreter, ``python`` (the path of a
    virtualenv's ``bin/python``, say), which must have the serializer installed."""

    template_fields: Sequence[str] = ("python", "templates_dict", "op_args", "op_kwargs")

    def __init__(
        self,
        *,
        python: str,
        python_callable: Callable[..., Any],
        serializer: str | None = None,
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        string_args: Iterable[str] | None = None,
        templates_dict: dict[str, Any] | None = None,
        templates_exts: Sequence[str] | None = None,
        expect_airflow: bool = True,
        expect_pendulum: bool = False,
        skip_on_exit_code: int | Container[int] | None = None,
        env_vars: dict[str, str] | None = None,
        inherit_env: bool = True,
        **kwargs: Any,
    ):
        if not python or not isinstance(python, str | os.PathLike):
            raise DagDefinitionError(
                f"Task {kwargs.get('task_id')!r}: ExternalPythonOperator needs python= "
                f"(the path of a Python interpreter), got {python!r}"
            )
        self.python = str(python)
        self.expect_pendulum = expect_pendulum
        super().__init__(
            python_callable=python_callable,
            serializer=serializer,
            op_args=op_args,
            op_kwargs=op_kwargs,
            string_args=string_args,
            templates_dict=templates_dict,
            templates_exts=templates_exts,
            expect_airflow=expect_airflow,
            skip_on_exit_code=skip_on_exit_code,
            env_vars=env_vars,
            inherit_env=inherit_env,
            **kwargs,
        )

    def interpreter_path(self) -> Path:
        path = Path(self.python)
        if not path.exists():
            raise AirflowException(
                f"Task {self.task_id!r}: the Python interpreter {self.python!r} does not exist"
            )
        if not os.access(path, os.X_OK) or path.is_dir():
            raise AirflowException(
                f"Task {self.task_id!r}: {self.python!r} is not an executable Python interpreter"
            )
        return path


class BranchPythonVirtualenvOperator(PythonVirtualenvOperator, BranchMixIn):
    """PythonVirtualenvOperator whose function returns the task id(s) to follow."""

    def execute(self, context: Mapping[str, Any]) -> Any:
        return self.do_branch(context, super().execute(context))


class BranchExternalPythonOperator(ExternalPythonOperator, BranchMixIn):
    """ExternalPythonOperator whose function returns the task id(s) to follow."""

    def execute(self, context: Mapping[str, Any]) -> Any:
        return self.do_branch(context, super().execute(context))


__all__ = [
    "BranchExternalPythonOperator",
    "BranchPythonVirtualenvOperator",
    "ExternalPythonOperator",
    "PythonVirtualenvOperator",
]
