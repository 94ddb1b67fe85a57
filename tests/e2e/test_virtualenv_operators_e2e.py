"""Tasks that run in another Python environment (``@task.virtualenv``,
``@task.external_python`` and their branch forms), through the real processor, scheduler
and runner. No internet: requirements come from wheels built in the test's directory."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from dagruns.domain.logs import ti_log_path
from dagruns.models import XCom
from tests.wheels import make_wheel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wheels(tmp_path) -> Path:
    folder = tmp_path / "wheels"
    make_wheel(folder, "orch-probe", "1.0", "VALUE = 42\n")
    return folder


def _add(engine, name: str, body: str, **values: object) -> None:
    constants = "".join(f"{key.upper()} = {str(value)!r}\n" for key, value in values.items())
    imports = "from dagruns.sdk import PythonVirtualenvOperator\n"
    engine.add(name, imports + constants + textwrap.dedent(body))


def _log(engine, run, task_id: str) -> str:
    return ti_log_path(engine.ti(run, task_id)).read_text()


def test_a_virtualenv_task_runs_in_its_own_environment_with_its_requirements(
    engine, wheels, tmp_path
):
    cache = tmp_path / "venvs"
    _add(
        engine,
        "venv.py",
        """
        import sys

        with DAG("venv", schedule=None, start_date=START) as dag:
            @task.virtualenv(
                requirements=["orch-probe==1.0"],
                system_site_packages=False,
                pip_install_options=["--no-index", "--find-links", WHEELS],
                venv_cache_path=CACHE,
                templates_dict={"day": "{{ ds }}"},
            )
            def probe(offset, scale=1, templates_dict=None, run_id=None):
                import sys

                import orch_probe

                return {
                    "value": (orch_probe.VALUE + offset) * scale,
                    "prefix": sys.prefix,
                    "day": templates_dict["day"],
                    "run_id": run_id,
                }

            @task
            def report(result):
                return {**result, "runner_prefix": sys.prefix}

            report(probe(1, scale=2))
        """,
        wheels=wheels,
        cache=cache,
    )
    engine.parse()
    run = engine.run_dag("venv", timeout=180)
    assert engine.states(run) == {"probe": "success", "report": "success"}
    result = XCom.objects.get(dag_run=run, task_id="report", key="return_value").value
    (venv,) = [path for path in cache.iterdir() if path.is_dir()]
    assert result["value"] == 86
    assert result["prefix"] == str(venv)  # the function ran in the cached environment
    assert result["runner_prefix"] != result["prefix"]
    assert result["day"] == run.logical_date.strftime("%Y-%m-%d")
    assert result["run_id"] == run.run_id

    # A second run reuses the environment: no pip this time.
    again = engine.run_dag("venv", timeout=120)
    assert again.state == "success"
    assert "pip install" not in _log(engine, again, "probe")
    assert "Reusing the cached Python virtual environment" in _log(engine, again, "probe")


def test_a_requirement_that_cannot_be_installed_fails_the_task_and_leaves_no_environment(
    engine, wheels, tmp_path
):
    cache = tmp_path / "venvs"
    _add(
        engine,
        "bad_requirement.py",
        """
        def use_probe():
            import orch_probe

            return orch_probe.VALUE

        OPTIONS = ["--no-index", "--find-links", WHEELS]
        with DAG("bad_requirement", schedule=None, start_date=START) as dag:
            PythonVirtualenvOperator(
                task_id="broken", python_callable=use_probe,
                requirements=["orch-probe==1.0", "orch-no-such-package==9.9"],
                pip_install_options=OPTIONS, venv_cache_path=CACHE)
        with DAG("good_requirement", schedule=None, start_date=START) as dag2:
            PythonVirtualenvOperator(
                task_id="works", python_callable=use_probe, requirements="orch-probe==1.0",
                pip_install_options=OPTIONS, venv_cache_path=CACHE)
        """,
        wheels=wheels,
        cache=cache,
    )
    engine.parse()
    bad = engine.run_dag("bad_requirement", timeout=180)
    assert engine.states(bad) == {"broken": "failed"}
    assert bad.state == "failed"
    log = _log(engine, bad, "broken")
    assert "Could not install the requirements" in log
    assert "orch-no-such-package==9.9" in log
    # Nothing half-built is left where a later try would take it for a good environment.
    assert [p.name for p in cache.iterdir() if p.is_dir()] == []

    good = engine.run_dag("good_requirement", timeout=180)
    assert engine.states(good) == {"works": "success"}
    assert XCom.objects.get(dag_run=good, task_id="works", key="return_value").value == 42


def test_external_python_and_the_branch_forms_run_in_the_named_interpreters(
    engine, wheels, tmp_path
):
    _add(
        engine,
        "external.py",
        """
        with DAG("external", schedule=None, start_date=START) as dag:
            @task.external_python(python=BASE_PYTHON)
            def where(x):
                import sys

                return [sys.prefix, x * 2]

            @task.branch_external_python(python=BASE_PYTHON)
            def pick(ds=None):
                return "left" if ds else "right"

            @task.branch_virtualenv(venv_cache_path=CACHE, serializer="pickle")
            def pick_in_venv():
                return ["down"]

            left, right = EmptyOperator(task_id="left"), EmptyOperator(task_id="right")
            up, down = EmptyOperator(task_id="up"), EmptyOperator(task_id="down")
            where(21) >> pick() >> [left, right]
            pick_in_venv() >> [up, down]
        """,
        base_python=sys._base_executable,
        cache=tmp_path / "venvs",
    )
    engine.parse()
    run = engine.run_dag("external", timeout=180)
    assert engine.states(run) == {
        "where": "success",
        "pick": "success",
        "left": "success",
        "right": "skipped",
        "pick_in_venv": "success",
        "up": "skipped",
        "down": "success",
    }
    value = XCom.objects.get(dag_run=run, task_id="where", key="return_value").value
    assert value == [sys.base_prefix, 42]


def test_a_python_version_that_is_not_installed_fails_the_task_naming_it(engine, tmp_path):
    _add(
        engine,
        "old_python.py",
        """
        def nothing():
            return 1

        with DAG("old_python", schedule=None, start_date=START) as dag:
            PythonVirtualenvOperator(task_id="old", python_callable=nothing,
                                     python_version="2.6", venv_cache_path=CACHE)
        """,
        cache=tmp_path / "venvs",
    )
    engine.parse()
    run = engine.run_dag("old_python", timeout=120)
    assert engine.states(run) == {"old": "failed"}
    assert "python_version '2.6' is not available on this worker" in _log(engine, run, "old")


def test_an_external_python_task_can_be_mapped_and_reduced(engine):
    from dagruns.models import TaskInstance

    _add(
        engine,
        "mapped_external.py",
        """
        with DAG("mapped_external", schedule=None, start_date=START) as dag:
            @task.external_python(python=BASE_PYTHON)
            def square(x):
                return x * x

            @task
            def total(values):
                return sum(values)

            total(square.expand(x=[1, 2, 3]))
        """,
        base_python=sys._base_executable,
    )
    engine.parse()
    run = engine.run_dag("mapped_external", timeout=120)
    assert run.state == "success"
    rows = TaskInstance.objects.filter(dag_run=run, task_id="square").order_by("map_index")
    assert [(ti.map_index, ti.state) for ti in rows] == [
        (0, "success"),
        (1, "success"),
        (2, "success"),
    ]
    assert XCom.objects.get(dag_run=run, task_id="total", key="return_value").value == 14
