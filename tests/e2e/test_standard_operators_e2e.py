"""The standard provider's branching operators (LatestOnly, BranchDateTime,
BranchDayOfWeek) and labelled edges, run for real; final states as Airflow documents them."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from dagruns.models import DagModel, DagRun

pytestmark = pytest.mark.django_db(transaction=True)


def _add(engine, name: str, body: str) -> None:
    engine.add(name, HEADER + textwrap.dedent(body))


HEADER = """
from dagruns.sdk import (BranchDateTimeOperator, BranchDayOfWeekOperator, Label,
    LatestOnlyOperator, WeekDay, chain_linear)
import datetime as dt
"""


def test_day_of_week_branch_follows_the_logical_dates_week_day(engine):
    _add(
        engine,
        "weekday.py",
        """
        with DAG("weekday", schedule=None, start_date=START) as dag:
            check = BranchDayOfWeekOperator(
                task_id="check", week_day={WeekDay.SATURDAY, "sunday"},
                use_task_logical_date=True,
                follow_task_ids_if_true="weekend", follow_task_ids_if_false="workday")
            check >> [EmptyOperator(task_id="weekend"), EmptyOperator(task_id="workday")]
        """,
    )
    engine.parse()
    sunday = datetime(2024, 6, 2, 12, tzinfo=UTC)
    monday = datetime(2024, 6, 3, 12, tzinfo=UTC)
    on_sunday = engine.run_dag("weekday", logical_date=sunday)
    on_monday = engine.run_dag("weekday", logical_date=monday)
    assert engine.states(on_sunday) == {
        "check": "success",
        "weekend": "success",
        "workday": "skipped",
    }
    assert engine.states(on_monday) == {
        "check": "success",
        "weekend": "skipped",
        "workday": "success",
    }
    assert on_sunday.state == on_monday.state == "success"


def test_datetime_branch_compares_the_logical_date_with_the_window(engine):
    _add(
        engine,
        "window.py",
        """
        with DAG("window", schedule=None, start_date=START) as dag:
            # 22:00 to 02:00 crosses midnight: the upper bound moves to the next day.
            check = BranchDateTimeOperator(
                task_id="check", target_lower=dt.time(22, 0), target_upper=dt.time(2, 0),
                use_task_logical_date=True,
                follow_task_ids_if_true=["night"], follow_task_ids_if_false="day")
            check >> Label("in the window") >> EmptyOperator(task_id="night")
            check >> Label("outside") >> EmptyOperator(task_id="day")
        """,
    )
    engine.parse()
    late = engine.run_dag("window", logical_date=datetime(2024, 6, 3, 23, tzinfo=UTC))
    noon = engine.run_dag("window", logical_date=datetime(2024, 6, 3, 12, tzinfo=UTC))
    assert engine.states(late) == {"check": "success", "night": "success", "day": "skipped"}
    assert engine.states(noon) == {"check": "success", "night": "skipped", "day": "success"}
    version = DagModel.objects.get(dag_id="window").latest_version()
    assert version.serialized["edge_info"] == {
        "check": {"day": {"label": "outside"}, "night": {"label": "in the window"}}
    }


def test_latest_only_skips_downstream_of_catchup_runs_but_not_of_the_latest_or_manual(engine):
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight - timedelta(days=3) + timedelta(hours=1)
    _add(
        engine,
        "latest.py",
        f"""
        with DAG("latest", schedule="@daily", catchup=True,
                 start_date=datetime({start.year}, {start.month}, {start.day}, 1)) as dag:
            # Airflow's example_latest_only_with_trigger DAG.
            latest_only = LatestOnlyOperator(task_id="latest_only")
            task1 = EmptyOperator(task_id="task1")
            task2 = EmptyOperator(task_id="task2")
            task3 = EmptyOperator(task_id="task3")
            task4 = EmptyOperator(task_id="task4", trigger_rule="all_done")
            latest_only >> task1 >> [task3, task4]
            task2 >> [task3, task4]
        """,
    )
    engine.parse()

    def three_finished(_report) -> bool:
        return DagRun.objects.filter(dag_id="latest", state__in=["success", "failed"]).count() >= 3

    assert engine.scheduler().run_until(three_finished, timeout=90)
    DagModel.objects.filter(dag_id="latest").update(is_paused=True)  # no more scheduled runs
    runs = list(
        DagRun.objects.filter(dag_id="latest", run_type="scheduled").order_by("logical_date")
    )
    assert len(runs) == 3
    # Airflow's documented outcome for a run that is not the latest: task1 and task3 skipped,
    # task4 (all_done) and the unrelated task2 run.
    skipped = {
        "latest_only": "success",
        "task1": "skipped",
        "task2": "success",
        "task3": "skipped",
        "task4": "success",
    }
    ran = dict.fromkeys(skipped, "success")
    assert [engine.states(run) for run in runs] == [skipped, skipped, ran]
    DagModel.objects.filter(dag_id="latest").update(is_paused=False)
    manual = engine.run_dag("latest", logical_date=runs[0].logical_date - timedelta(days=30))
    assert engine.states(manual) == ran


def test_an_unknown_week_day_or_a_misused_label_is_an_import_error_naming_it(engine):
    from dagruns.models import DagImportError
    from scheduler.processor.loop import DagProcessor

    _add(
        engine,
        "bad_day.py",
        """
        with DAG("bad_day", schedule=None, start_date=START) as dag:
            BranchDayOfWeekOperator(task_id="check", week_day="Caturday",
                                    follow_task_ids_if_true="a", follow_task_ids_if_false="b")
        """,
    )
    _add(
        engine,
        "bad_label.py",
        """
        with DAG("bad_label", schedule=None, start_date=START) as dag:
            EmptyOperator(task_id="a") >> Label("one") >> Label("two")
        """,
    )
    DagProcessor(timeout=30).run_once()
    errors = dict(DagImportError.objects.values_list("filename", "message"))
    by_file = {name.rsplit("/", 1)[-1]: message for name, message in errors.items()}
    assert "Task 'check': week_day: Invalid Week Day passed: \"Caturday\"" in by_file["bad_day.py"]
    assert "two edge labels next to each other" in by_file["bad_label.py"]
    assert not DagModel.objects.filter(dag_id__in=["bad_day", "bad_label"]).exists()


def test_airflow_spelling_with_a_timetable_object_latest_only_labels_and_teardown(engine):
    """Airflow's import paths, a CronTriggerTimetable object as schedule (LatestOnly asks it
    for the next run), Label, chain_linear and setup/teardown in one file."""
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight - timedelta(days=2) + timedelta(hours=1)
    path = engine.folder / "airflow_spelling.py"
    path.write_text(
        textwrap.dedent(
            f"""
            import pendulum
            from airflow.sdk import DAG, Label, chain_linear, setup, task, teardown
            from airflow.providers.standard.operators.empty import EmptyOperator
            from airflow.providers.standard.operators.latest_only import LatestOnlyOperator
            from airflow.timetables.trigger import CronTriggerTimetable

            with DAG(
                "airflow_spelling",
                schedule=CronTriggerTimetable("0 0 * * *", timezone="UTC"),
                start_date=pendulum.datetime({start.year}, {start.month}, {start.day}, 1, tz="UTC"),
                catchup=True,
            ) as dag:
                @setup
                def create():
                    return "resource"

                @teardown
                def delete():
                    raise RuntimeError("cleanup failed")  # does not decide the run

                with delete().as_teardown(setups=create()):
                    latest = LatestOnlyOperator(task_id="latest_only")
                    publish, archive, done = (EmptyOperator(task_id=t) for t in ("publish", "archive", "done"))
                    latest >> Label("only the latest run") >> publish
                    chain_linear(publish, [archive], done)
            """
        )
    )
    engine.parse()

    def two_finished(_report) -> bool:
        done = DagRun.objects.filter(dag_id="airflow_spelling", state__in=["success", "failed"])
        return done.count() >= 2

    assert engine.scheduler().run_until(two_finished, timeout=90)
    DagModel.objects.filter(dag_id="airflow_spelling").update(is_paused=True)
    runs = list(DagRun.objects.filter(dag_id="airflow_spelling").order_by("logical_date"))
    assert len(runs) == 2
    older, latest = (engine.states(run) for run in runs)
    assert older == {
        "create": "success",
        "latest_only": "success",
        "publish": "skipped",
        "archive": "skipped",
        "done": "skipped",
        "delete": "failed",
    }
    assert latest == {**older, "publish": "success", "archive": "success", "done": "success"}
    assert [run.state for run in runs] == ["success", "success"]
    version = DagModel.objects.get(dag_id="airflow_spelling").latest_version()
    assert version.serialized["edge_info"] == {
        "latest_only": {"publish": {"label": "only the latest run"}}
    }
