from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from dagruns.sdk import (
    DAG,
    AirflowDagCycleException,
    BashOperator,
    DagDefinitionError,
    DuplicateTaskIdFound,
    EmptyOperator,
    Param,
    ParamValidationError,
    TaskNotFound,
)


def test_it_has_airflow_3_defaults():
    dag = DAG("defaults")
    assert dag.schedule is None
    assert dag.catchup is False
    assert dag.max_active_runs == 16
    assert dag.max_active_tasks == 16
    assert dag.max_consecutive_failed_dag_runs == 0
    assert dag.dagrun_timeout is None
    assert dag.is_paused_upon_creation is None
    assert dag.start_date is None
    assert dag.timezone is UTC
    assert dag.tags == set()
    assert dag.auto_register is True


def test_it_detects_the_file_that_defines_it():
    assert DAG("here").fileloc == __file__


def test_it_rejects_a_bad_dag_id():
    with pytest.raises(DagDefinitionError, match="dag_id"):
        DAG("my dag")


def test_it_rejects_a_bad_cron_expression_at_construction():
    with pytest.raises(DagDefinitionError, match="'0 25 \\* \\* \\*'"):
        DAG("bad_cron", schedule="0 25 * * *")


def test_a_naive_start_date_is_treated_as_utc():
    dag = DAG("naive", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 2, 1))
    assert dag.start_date == datetime(2024, 1, 1, tzinfo=UTC)
    assert dag.end_date == datetime(2024, 2, 1, tzinfo=UTC)
    assert dag.timezone is UTC


def test_an_aware_start_date_sets_the_timezone_and_is_stored_in_utc():
    dag = DAG("aware", start_date=datetime(2024, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam")))
    assert dag.timezone == ZoneInfo("Europe/Amsterdam")
    assert dag.start_date == datetime(2023, 12, 31, 23, tzinfo=UTC)
    assert dag.start_date.utcoffset() == timedelta(0)


def test_start_date_may_come_from_default_args():
    dag = DAG(
        "from_args",
        default_args={"start_date": datetime(2024, 5, 1, tzinfo=timezone(timedelta(hours=2)))},
    )
    assert dag.start_date == datetime(2024, 4, 30, 22, tzinfo=UTC)


def test_end_date_before_start_date_is_an_error():
    with pytest.raises(DagDefinitionError, match="before start_date"):
        DAG("backwards", start_date=datetime(2024, 2, 1), end_date=datetime(2024, 1, 1))


def test_tags_must_be_short_strings():
    assert DAG("tagged", tags=["a", "b", "a"]).tags == {"a", "b"}
    with pytest.raises(DagDefinitionError, match="tag"):
        DAG("long_tag", tags=["x" * 101])
    with pytest.raises(DagDefinitionError, match="not a string"):
        DAG("string_tags", tags="abc")


def test_dagrun_timeout_accepts_seconds():
    assert DAG("timeout", dagrun_timeout=90).dagrun_timeout == timedelta(seconds=90)


def test_default_args_params_are_folded_into_dag_params():
    dag = DAG("p", params={"a": 1}, default_args={"params": {"b": 2}, "retries": 1})
    assert dict(dag.params) == {"a": 1, "b": 2}
    assert "params" not in dag.default_args


def test_it_rejects_a_duplicate_task_id():
    with DAG("dup") as dag:
        EmptyOperator(task_id="same")
        with pytest.raises(DuplicateTaskIdFound, match="'same'"):
            EmptyOperator(task_id="same")
    assert len(dag.tasks) == 1


def test_get_task_raises_for_an_unknown_id():
    dag = DAG("lookup")
    with pytest.raises(TaskNotFound, match="nope"):
        dag.get_task("nope")


def test_owner_joins_the_distinct_task_owners():
    with DAG("owners", default_args={"owner": "data"}) as dag:
        EmptyOperator(task_id="a")
        EmptyOperator(task_id="b")
        EmptyOperator(task_id="c", owner="ops")
    assert dag.owner == "data, ops"


def test_owner_of_an_empty_dag_comes_from_default_args_or_airflow():
    assert DAG("empty").owner == "airflow"
    assert DAG("empty2", default_args={"owner": "me"}).owner == "me"


def test_roots_leaves_and_topological_sort():
    with DAG("shape") as dag:
        a, b, c, d = (EmptyOperator(task_id=name) for name in "abcd")
        a >> [c, b] >> d
    assert dag.roots == [a]
    assert dag.leaves == [d]
    assert [task.task_id for task in dag.topological_sort()] == ["a", "b", "c", "d"]


def test_validate_reports_a_cycle_naming_its_tasks():
    with DAG("cyclic") as dag:
        a, b, c = (EmptyOperator(task_id=name) for name in "abc")
        a >> b >> c >> a
    with pytest.raises(AirflowDagCycleException, match="a >> b >> c >> a"):
        dag.validate()


def test_a_task_depending_on_itself_is_a_cycle():
    with DAG("self_loop") as dag:
        a = EmptyOperator(task_id="a")
        a >> a
    with pytest.raises(AirflowDagCycleException, match="a >> a"):
        dag.check_cycle()


def test_validate_accepts_a_good_dag():
    with DAG("good", schedule="@daily", params={"n": Param(1, type="integer")}) as dag:
        EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
    dag.validate()


def test_validate_rejects_an_invalid_param_default():
    dag = DAG("bad_default", params={"n": Param("one", type="integer")})
    with pytest.raises(ParamValidationError, match="'n'"):
        dag.validate()


def test_a_scheduled_dag_needs_defaults_for_its_params():
    with pytest.raises(ParamValidationError, match="schedule must be None"):
        DAG("needs_default", schedule="@daily", params={"n": Param(type="integer")}).validate()
    DAG("manual", schedule=None, params={"n": Param(type="integer")}).validate()
    DAG("nullable", schedule="@daily", params={"n": Param(type=["null", "integer"])}).validate()


def test_fail_fast_dags_only_allow_all_success():
    with DAG("ff", fail_fast=True) as dag:
        EmptyOperator(task_id="a", trigger_rule="one_failed")
    with pytest.raises(DagDefinitionError, match="fail_fast"):
        dag.validate()


def test_template_env_loads_files_from_the_dag_folder_and_searchpath(tmp_path):
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "hello.sql").write_text("select {{ 1 + 1 }}")
    dag = DAG("env", fileloc=str(tmp_path / "dag.py"), template_searchpath=str(tmp_path / "extra"))
    assert dag.get_template_env().get_template("hello.sql").render() == "select 2"


def test_doc_md_naming_a_markdown_file_is_loaded(tmp_path):
    (tmp_path / "README.md").write_text("# Hello")
    assert DAG("docs", doc_md="README.md", fileloc=str(tmp_path / "d.py")).get_doc_md() == "# Hello"
    assert (
        DAG("docs2", doc_md="missing.md", fileloc=str(tmp_path / "d.py")).get_doc_md()
        == "missing.md"
    )


def test_user_defined_macros_and_filters_reach_templates():
    with DAG(
        "macros", user_defined_macros={"who": "world"}, user_defined_filters={"shout": str.upper}
    ):
        task = BashOperator(task_id="t", bash_command="echo {{ who | shout }}")
    task.render_template_fields({})
    assert task.bash_command == "echo WORLD"
