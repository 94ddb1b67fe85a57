"""DAG files written the way Airflow's documentation writes them (``from airflow.sdk import
...``, the standard provider, Airflow 2 paths, pendulum, custom timetables from a plugins
folder), through the real processor, scheduler, executor and runner."""

from __future__ import annotations

import logging
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from dagruns.models import DagImportError, DagModel, DagRun
from scheduler.processor.loop import DagProcessor

pytestmark = pytest.mark.django_db(transaction=True)

TUTORIAL = """
import pendulum
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.utils.trigger_rule import TriggerRule
from airflow.exceptions import AirflowSkipException

with DAG(
    "airflow_tutorial",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="Europe/Amsterdam"),
    default_args={"retries": 0, "retry_delay": pendulum.duration(seconds=1)},
    tags=["example"],
) as dag:
    @task
    def extract():
        return {"1001": 301.27, "1002": 433.21}

    @task
    def total(order_data: dict):
        return sum(order_data.values())

    def skip_me():
        raise AirflowSkipException("nothing to do")

    skipped = PythonOperator(task_id="skipped", python_callable=skip_me)
    report = BashOperator(
        task_id="report",
        bash_command="echo total={{ ti.xcom_pull(task_ids='total') }}",
        trigger_rule=TriggerRule.NONE_FAILED,
    )
    [total(extract()), skipped] >> report
"""


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


def test_an_airflow_3_tutorial_dag_runs_unchanged_with_airflows_final_states(engine):
    write(engine.folder, "tutorial.py", TUTORIAL)
    engine.parse()
    run = engine.run_dag("airflow_tutorial")
    assert engine.states(run) == {
        "extract": "success",
        "total": "success",
        "skipped": "skipped",
        "report": "success",
    }
    assert run.state == "success"


def test_a_dag_file_importing_both_airflow_sdk_and_dagruns_sdk_runs(engine):
    write(
        engine.folder,
        "both.py",
        """
        from airflow.sdk import DAG, task
        from dagruns.sdk import BashOperator, DAG as OurDAG
        assert DAG is OurDAG

        with DAG("both_sdks", schedule=None) as dag:
            @task
            def hello():
                return "hi"

            hello() >> BashOperator(task_id="bash", bash_command="echo done")
        """,
    )
    engine.parse()
    run = engine.run_dag("both_sdks")
    assert engine.states(run) == {"hello": "success", "bash": "success"}


def test_an_airflow_import_we_lack_is_an_import_error_naming_it_and_its_line(dags_folder):
    path = write(
        dags_folder,
        "lacking.py",
        """
        from airflow.sdk import DAG
        from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
        """,
    )
    DagProcessor(timeout=30).run_once()
    error = DagImportError.objects.get(filename=str(path))
    assert "`airflow.providers.amazon` is not supported by orchestrator yet" in error.message
    assert error.line_number == 3


def test_a_pendulum_start_date_timezone_drives_the_cron_schedule(dags_folder):
    write(
        dags_folder,
        "local_time.py",
        """
        import pendulum
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("six_in_amsterdam", schedule="0 6 * * *", catchup=True,
                 start_date=pendulum.datetime(2024, 1, 10, tz="Europe/Amsterdam")) as dag:
            EmptyOperator(task_id="t")
        """,
    )
    DagProcessor(timeout=30).run_once()
    assert not DagImportError.objects.exists()
    dag = DagModel.objects.get(dag_id="six_in_amsterdam")
    assert dag.next_dagrun is not None
    assert dag.next_dagrun.isoformat() == "2024-01-10T05:00:00+00:00"  # 06:00 CET


PLUGIN = """
from pendulum import UTC, DateTime, Time
from airflow.plugins_manager import AirflowPlugin
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable


class HalfDays(Timetable):
    \"\"\"A run for each half day (00:00-12:00, 12:00-24:00 UTC), after it ends.\"\"\"

    def infer_manual_data_interval(self, *, run_after):
        end = run_after.replace(minute=0, second=0, microsecond=0)
        return DataInterval(start=end.subtract(hours=12), end=end)

    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        if last_automated_data_interval is not None:
            start = last_automated_data_interval.end
        elif restriction.earliest is None:
            return None
        else:
            start = DateTime.combine(restriction.earliest.date(), Time.min).replace(tzinfo=UTC)
        if restriction.latest is not None and start > restriction.latest:
            return None
        return DagRunInfo.interval(start=start, end=start.add(hours=12))


class Raises(Timetable):
    def infer_manual_data_interval(self, *, run_after):
        return DataInterval.exact(run_after)

    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        raise RuntimeError("calendar service down")


class FailsAfterFirstRun(HalfDays):
    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        if last_automated_data_interval is not None:
            raise RuntimeError("no second run")
        return super().next_dagrun_info(
            last_automated_data_interval=None, restriction=restriction
        )


class HalfDaysPlugin(AirflowPlugin):
    name = "half_days"
    timetables = [HalfDays, Raises, FailsAfterFirstRun]
"""


@pytest.fixture
def plugins(orch_settings, tmp_path) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir()
    write(folder, "half_day_timetables.py", PLUGIN)
    orch_settings.plugins_folder = folder
    return folder


def _yesterday_midnight() -> str:
    day = (timezone.now() - timedelta(days=1)).date()
    return f"pendulum.datetime({day.year}, {day.month}, {day.day}, tz='UTC')"


def test_a_custom_timetable_from_the_plugins_folder_schedules_runs(engine, plugins):
    write(
        engine.folder,
        "half_days.py",
        f"""
        import pendulum
        from half_day_timetables import HalfDays
        from airflow.sdk import DAG, task

        with DAG("half_days", schedule=HalfDays(), start_date={_yesterday_midnight()},
                 catchup=True) as dag:
            @task
            def work(data_interval_start=None, data_interval_end=None):
                assert (data_interval_end - data_interval_start).total_seconds() == 12 * 3600

            work()
        """,
    )
    engine.parse()
    dag = DagModel.objects.get(dag_id="half_days")
    assert dag.timetable_summary == "HalfDays"

    # Catch-up makes every due half day (up to three, by the time of day) run at once, in any
    # order: wait for the first two by logical date, the ones this test asserts on.
    def two_done(_report) -> bool:
        first_two = DagRun.objects.filter(dag_id="half_days").order_by("logical_date")[:2]
        return [run.state for run in first_two] == ["success", "success"]

    assert engine.scheduler().run_until(two_done, timeout=90)
    runs = list(DagRun.objects.filter(dag_id="half_days").order_by("logical_date")[:2])
    midnight = (timezone.now() - timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert [r.logical_date for r in runs] == [midnight, midnight + timedelta(hours=12)]
    assert all(r.run_type == "scheduled" and r.state == "success" for r in runs)


def test_a_custom_timetable_that_raises_is_an_import_error_naming_dag_and_timetable(
    dags_folder, plugins
):
    broken = write(
        dags_folder,
        "broken.py",
        """
        from half_day_timetables import Raises
        from airflow.sdk import DAG
        from airflow.operators.empty import EmptyOperator

        with DAG("uses_raises", schedule=Raises()) as dag:
            EmptyOperator(task_id="t")
        """,
    )
    write(
        dags_folder,
        "fine.py",
        """
        import pendulum
        from airflow.sdk import DAG
        from airflow.operators.empty import EmptyOperator

        with DAG("fine", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1)) as dag:
            EmptyOperator(task_id="t")
        """,
    )
    DagProcessor(timeout=30).run_once()
    error = DagImportError.objects.get(filename=str(broken))
    assert "DAG 'uses_raises'" in error.message
    assert "half_day_timetables.Raises.next_dagrun_info raised RuntimeError" in error.message
    assert DagModel.objects.get(dag_id="uses_raises").next_dagrun is None
    assert DagModel.objects.get(dag_id="fine").next_dagrun is not None


def test_a_timetable_class_no_plugin_registers_is_an_import_error_saying_so(dags_folder, plugins):
    path = write(
        dags_folder,
        "unregistered.py",
        """
        from airflow.sdk import DAG
        from airflow.timetables.base import DagRunInfo, DataInterval, Timetable

        class LocalOnly(Timetable):
            def infer_manual_data_interval(self, *, run_after):
                return DataInterval.exact(run_after)

            def next_dagrun_info(self, *, last_automated_data_interval, restriction):
                return None

        with DAG("local_only", schedule=LocalOnly()) as dag:
            pass
        """,
    )
    DagProcessor(timeout=30).run_once()
    message = DagImportError.objects.get(filename=str(path)).message
    assert "DAG 'local_only'" in message and "LocalOnly' is not registered" in message


def test_a_timetable_raising_in_the_scheduler_stops_only_its_dag(engine, plugins, caplog):
    write(
        engine.folder,
        "second_fails.py",
        f"""
        import pendulum
        from half_day_timetables import FailsAfterFirstRun
        from airflow.sdk import DAG
        from airflow.operators.empty import EmptyOperator

        with DAG("second_fails", schedule=FailsAfterFirstRun(),
                 start_date={_yesterday_midnight()}, catchup=True) as dag:
            EmptyOperator(task_id="t")
        """,
    )
    engine.parse()
    caplog.set_level(logging.ERROR, logger="scheduler.scheduling.create_runs")

    def one_done(_report) -> bool:
        return DagRun.objects.filter(dag_id="second_fails", state="success").exists()

    assert engine.scheduler().run_until(one_done, timeout=90)
    engine.scheduler().run_once()  # the scheduler carries on
    assert DagRun.objects.filter(dag_id="second_fails").count() == 1
    assert DagModel.objects.get(dag_id="second_fails").next_dagrun is None
    assert any(
        "second_fails" in r.getMessage()
        and "FailsAfterFirstRun.next_dagrun_info raised RuntimeError: no second run"
        in r.getMessage()
        for r in caplog.records
    )


def test_mapping_labels_and_standard_operators_in_airflow_spelling_run(engine):
    write(
        engine.folder,
        "mapped.py",
        """
        import pendulum
        from airflow.sdk import DAG, Label, chain_linear, task
        from airflow.providers.standard.operators.empty import EmptyOperator
        from airflow.providers.standard.operators.weekday import BranchDayOfWeekOperator
        from airflow.providers.standard.utils.weekday import WeekDay

        with DAG("mapped_airflow", schedule=None, start_date=pendulum.datetime(2024, 1, 1)) as dag:
            @task
            def double(x):
                return 2 * x

            @task
            def check(values):
                assert sum(values) == 12, values

            start = EmptyOperator(task_id="start")
            weekend = EmptyOperator(task_id="weekend")
            weekday = EmptyOperator(task_id="weekday")
            branch = BranchDayOfWeekOperator(
                task_id="branch", week_day={WeekDay.SATURDAY, WeekDay.SUNDAY},
                follow_task_ids_if_true="weekend", follow_task_ids_if_false="weekday",
                use_task_logical_date=True,
            )
            start >> Label("always") >> check(double.expand(x=[1, 2, 3]))
            chain_linear(start, branch, [weekend, weekday])
        """,
    )
    engine.parse()
    run = engine.run_dag(
        "mapped_airflow", logical_date=datetime(2024, 1, 6, tzinfo=UTC)
    )  # a Saturday
    states = engine.states(run)
    assert run.state == "success", states
    assert (states["double"], states["check"], states["weekend"], states["weekday"]) == (
        "success",
        "success",
        "success",
        "skipped",
    )


def test_taskflow_with_get_current_context_in_airflow_spelling_runs(engine):
    write(
        engine.folder,
        "context.py",
        """
        import pendulum
        from airflow.sdk import dag, get_current_context, task

        @dag(schedule="@daily", start_date=pendulum.datetime(2021, 1, 1, tz="UTC"), catchup=False,
             params={"other_param": "from_dag"})
        def airflow_context():
            @task
            def read_context():
                context = get_current_context()
                # Airflow hands tasks pendulum dates; DAG code relies on their API.
                assert context["logical_date"].add(days=1) > context["logical_date"]
                return context["params"]["other_param"]

            @task
            def check(value):
                assert value == "from_dag", value

            check(read_context())

        airflow_context()
        """,
    )
    engine.parse()
    run = engine.run_dag("airflow_context")
    assert engine.states(run) == {"read_context": "success", "check": "success"}
