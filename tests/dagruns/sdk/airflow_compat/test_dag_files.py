"""DAG files written for Airflow, imported the way the processor and the runner import them
(`dag_loader.import_dag_file`, which installs the shim)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pendulum
import pytest

import dagruns.sdk
from dagruns.sdk.dag_loader import import_dag_file
from dagruns.sdk.serialization import serialize_dag

REPO = Path(__file__).resolve().parents[4]


def write(folder: Path, name: str, body: str) -> str:
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return str(path)


@pytest.mark.usefixtures("shim")
def test_an_airflow_3_tutorial_dag_imports_with_pendulum_dates(tmp_path):
    path = write(
        tmp_path,
        "tutorial.py",
        """
        import pendulum
        from airflow.sdk import DAG, task
        from airflow.providers.standard.operators.bash import BashOperator

        with DAG(
            "tutorial",
            schedule="0 6 * * *",
            start_date=pendulum.datetime(2024, 3, 1, tz="Europe/Amsterdam"),
            dagrun_timeout=pendulum.duration(minutes=30),
            catchup=False,
        ) as dag:
            @task
            def extract():
                return {"a": 1}

            extract() >> BashOperator(task_id="load", bash_command="echo {{ ds }}")
        """,
    )
    (dag,) = import_dag_file(path)
    assert dag.start_date == pendulum.datetime(2024, 2, 29, 23, tz="UTC")
    assert type(dag.start_date) is not pendulum.DateTime  # stored as a plain datetime
    data = serialize_dag(dag)
    assert data["timezone"] == "Europe/Amsterdam"
    assert data["dagrun_timeout"] == 1800
    assert set(dag.task_ids) == {"extract", "load"}


@pytest.mark.usefixtures("shim")
def test_a_file_importing_both_airflow_sdk_and_dagruns_sdk_gets_the_same_objects(tmp_path):
    path = write(
        tmp_path,
        "both.py",
        """
        from airflow.sdk import DAG as AirflowDAG, task
        from dagruns.sdk import DAG, EmptyOperator
        from airflow.operators.empty import EmptyOperator as AirflowEmpty

        assert AirflowDAG is DAG and AirflowEmpty is EmptyOperator

        with AirflowDAG("both", schedule=None) as dag:
            EmptyOperator(task_id="a") >> AirflowEmpty(task_id="b")
        """,
    )
    (dag,) = import_dag_file(path)
    assert isinstance(dag, dagruns.sdk.DAG)
    assert dag.get_task("a").downstream_task_ids == {"b"}


@pytest.mark.usefixtures("shim")
def test_an_airflow_import_we_lack_fails_at_its_line_naming_it(tmp_path):
    path = write(
        tmp_path,
        "lacking.py",
        """
        from airflow.sdk import DAG
        from airflow.sdk import Asset, NotAThing
        """,
    )
    with pytest.raises(
        ImportError, match=r"`airflow\.sdk\.(Asset|NotAThing)` is not supported"
    ) as info:
        import_dag_file(path)
    frames = [f for f in __import__("traceback").extract_tb(info.value.__traceback__)]
    assert any(f.filename == path and f.lineno == 3 for f in frames)


FAKE_AIRFLOW_DAG = """
import airflow
from airflow.operators.bash import REAL_BASH
from dagruns.sdk import DAG
assert airflow.IS_REAL_AIRFLOW and REAL_BASH == "real"
with DAG("with_real_airflow", schedule=None) as dag:
    pass
"""


def test_a_real_airflow_install_is_neither_shadowed_nor_broken(tmp_path):
    fake = tmp_path / "site" / "airflow"
    (fake / "operators").mkdir(parents=True)
    (fake / "__init__.py").write_text("IS_REAL_AIRFLOW = True\n")
    (fake / "operators" / "__init__.py").write_text("")
    (fake / "operators" / "bash.py").write_text("REAL_BASH = 'real'\n")
    dag_file = write(tmp_path, "real.py", FAKE_AIRFLOW_DAG)
    script = textwrap.dedent(
        f"""
        from dagruns.sdk import airflow_compat
        from dagruns.sdk.dag_loader import import_dag_file
        dags = import_dag_file({dag_file!r})
        print("DAGS", [d.dag_id for d in dags], "SHIM", airflow_compat.is_installed())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={"PYTHONPATH": f"{tmp_path / 'site'}:{REPO}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "DAGS ['with_real_airflow'] SHIM False" in done.stdout
    assert "apache-airflow is installed in this environment" in done.stderr
