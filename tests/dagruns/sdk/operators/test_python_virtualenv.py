"""What the virtualenv and external-Python operators accept, refuse and run (bad input is
refused at definition, naming the task and the argument)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dagruns.sdk import (
    DAG,
    AirflowException,
    AirflowSkipException,
    DagDefinitionError,
    ExternalPythonOperator,
    PythonVirtualenvOperator,
    task,
)
from dagruns.sdk.venv_script import function_source

from ..conftest import FakeTI


def double(x):
    return x * 2


def exit_with(code):
    import sys

    sys.exit(code)


def wants_ti(ti):
    return ti


def _external(function, **kwargs):
    with DAG("d"):
        return ExternalPythonOperator(
            task_id="t", python=sys._base_executable, python_callable=function, **kwargs
        )


def test_external_python_runs_the_function_in_that_interpreter_and_returns_its_value():
    op = _external(double, op_args=[21])
    assert op.execute({"ti": FakeTI(), "ds": "2024-01-01"}) == 42


def test_skip_on_exit_code_skips_and_other_exit_codes_fail():
    with pytest.raises(AirflowSkipException, match="exited with code 3"):
        _external(exit_with, op_args=[3], skip_on_exit_code=3).execute({"ti": FakeTI()})
    with pytest.raises(AirflowException, match="non-zero exit status 4"):
        _external(exit_with, op_args=[4], skip_on_exit_code=[3]).execute({"ti": FakeTI()})


def test_an_exception_in_the_function_fails_the_task_with_its_traceback():
    def broken():
        raise KeyError("missing thing")

    with pytest.raises(AirflowException, match="KeyError: 'missing thing'"):
        _external(broken).execute({"ti": FakeTI()})


def test_live_context_objects_cannot_be_sent_to_another_interpreter():
    with pytest.raises(AirflowException, match=r"context keys \['ti'\] cannot be passed"):
        _external(wants_ti).execute({"ti": FakeTI()})


def test_a_missing_interpreter_fails_the_task_naming_its_path(tmp_path):
    with DAG("d"):
        op = ExternalPythonOperator(
            task_id="t",
            python=str(tmp_path / "nope" / "python"),
            python_callable=double,
            op_args=[1],
        )
    with pytest.raises(AirflowException, match="nope/python' does not exist"):
        op.execute({"ti": FakeTI()})


def test_serializers_other_than_pickle_must_be_installed(monkeypatch):
    # cloudpickle is not a dependency of ours (dill is, as in Airflow); None in sys.modules makes
    # its import fail even where some other package happened to install it.
    monkeypatch.setitem(sys.modules, "cloudpickle", None)
    op = _external(double, op_args=[1], serializer="cloudpickle")
    with pytest.raises(AirflowException, match="serializer 'cloudpickle' is not installed"):
        op.execute({"ti": FakeTI()})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"python_callable": lambda: 1}, "only supports functions defined with def"),
        ({"serializer": "json"}, "unsupported serializer 'json'"),
        ({"python_version": 3.11}, "python_version must be a string"),
        ({"python_version": "2", "op_args": [1]}, "not supported across different Python major"),
        ({"index_urls_from_connection_ids": ["pypi"]}, "index_urls_from_connection_ids is not"),
        ({"pip_install_options": "--no-index"}, "pip_install_options must be a list"),
    ],
)
def test_bad_arguments_are_refused_naming_them(kwargs, message):
    arguments = {"task_id": "venv", "python_callable": double, **kwargs}
    with DAG("d"), pytest.raises(DagDefinitionError, match=message):
        PythonVirtualenvOperator(**arguments)


def test_generators_are_refused():
    def gen():
        yield 1

    with DAG("d"), pytest.raises(DagDefinitionError, match="does not support 'yield'"):
        PythonVirtualenvOperator(task_id="g", python_callable=gen)


def test_requirements_files_are_split_and_the_serializer_joins_without_site_packages():
    with DAG("d"):
        op = PythonVirtualenvOperator(
            task_id="r",
            python_callable=double,
            serializer="dill",
            system_site_packages=False,
            requirements=["b==1 # pinned\n\na>=2", "c"],
        )
    assert op.requirements_list() == ["a>=2", "b==1", "c", "dill"]


def test_the_function_source_drops_its_decorators():
    with DAG("d"):

        @task.virtualenv(
            requirements=["x"],
            system_site_packages=False,
        )
        def decorated(a):
            return a

        decorated(1)
    source = function_source(decorated.function)
    assert source.startswith("def decorated(a):")
    assert "@task" not in source


def test_a_virtualenv_without_requirements_is_built_once_and_reused(tmp_path: Path):
    with DAG("d"):
        op = PythonVirtualenvOperator(
            task_id="v", python_callable=double, op_args=[5], venv_cache_path=str(tmp_path)
        )
    assert op.execute({"ti": FakeTI()}) == 10
    built = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert len(built) == 1 and built[0].startswith("venv-")
    assert op.execute({"ti": FakeTI()}) == 10
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == built


def read_string_args_and_env():
    import os

    return virtualenv_string_args, os.environ.get("ORCH_TEST_FLAG"), "HOME" in os.environ  # noqa: F821


def test_string_args_and_env_vars_reach_the_function():
    op = _external(
        read_string_args_and_env,
        string_args=["first", "second"],
        env_vars={"ORCH_TEST_FLAG": "on"},
        inherit_env=False,
    )
    assert op.execute({"ti": FakeTI()}) == (["first", "second"], "on", False)
