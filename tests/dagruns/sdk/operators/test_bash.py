import logging
import threading
import time

import pytest

from dagruns.sdk import DAG, AirflowException, AirflowSkipException, BashOperator, EmptyOperator


def test_it_returns_the_last_line_and_logs_every_line(caplog):
    task = BashOperator(task_id="t", bash_command="echo one; echo two")
    with caplog.at_level(logging.INFO):
        assert task.execute({}) == "two"
    assert "one" in caplog.messages and "two" in caplog.messages


def test_stderr_is_logged_too(caplog):
    task = BashOperator(task_id="t", bash_command="echo oops >&2")
    with caplog.at_level(logging.INFO):
        task.execute({})
    assert "oops" in caplog.messages


def test_a_non_zero_exit_fails_the_task():
    with pytest.raises(AirflowException, match="non-zero exit code 3"):
        BashOperator(task_id="t", bash_command="exit 3").execute({})


def test_exit_code_99_skips_the_task_by_default():
    with pytest.raises(AirflowSkipException):
        BashOperator(task_id="t", bash_command="exit 99").execute({})


def test_skip_on_exit_code_is_configurable():
    with pytest.raises(AirflowSkipException):
        BashOperator(task_id="t", bash_command="exit 5", skip_on_exit_code=[5, 6]).execute({})
    with pytest.raises(AirflowException, match="99"):
        BashOperator(task_id="u", bash_command="exit 99", skip_on_exit_code=None).execute({})


def test_env_replaces_the_environment_unless_appended(monkeypatch):
    monkeypatch.setenv("INHERITED", "yes")
    replaced = BashOperator(
        task_id="t", bash_command='echo "${INHERITED:-no} $OWN"', env={"OWN": "1"}
    )
    appended = BashOperator(
        task_id="u", bash_command='echo "${INHERITED:-no} $OWN"', env={"OWN": "1"}, append_env=True
    )
    inherited = BashOperator(task_id="v", bash_command='echo "${INHERITED:-no}"')
    assert replaced.execute({}) == "no 1"
    assert appended.execute({}) == "yes 1"
    assert inherited.execute({}) == "yes"


def test_context_is_exported_as_airflow_ctx_variables():
    with DAG("ctx_dag"):
        task = BashOperator(
            task_id="t",
            bash_command='echo "$AIRFLOW_CTX_DAG_ID $AIRFLOW_CTX_TASK_ID $AIRFLOW_CTX_DAG_RUN_ID"',
        )
    assert (
        task.execute({"dag": task.dag, "task": task, "run_id": "manual__1"})
        == "ctx_dag t manual__1"
    )


def test_cwd_is_used_and_must_be_an_existing_directory(tmp_path):
    assert BashOperator(task_id="t", bash_command="pwd", cwd=str(tmp_path)).execute({}) == str(
        tmp_path
    )
    with pytest.raises(AirflowException, match="Can not find the cwd"):
        BashOperator(task_id="u", bash_command="pwd", cwd=str(tmp_path / "nope")).execute({})
    (tmp_path / "file").write_text("")
    with pytest.raises(AirflowException, match="must be a directory"):
        BashOperator(task_id="v", bash_command="pwd", cwd=str(tmp_path / "file")).execute({})


def test_output_processor_transforms_the_result():
    task = BashOperator(
        task_id="t", bash_command="echo 41", output_processor=lambda out: int(out) + 1
    )
    assert task.execute({}) == 42


def test_on_kill_stops_a_running_command():
    task = BashOperator(task_id="t", bash_command="sleep 30")
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.setdefault("error", _run_capturing(task)))
    runner.start()
    for _ in range(100):
        if task._process is not None:
            break
        time.sleep(0.05)
    task.on_kill()
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert isinstance(outcome["error"], AirflowException)


def _run_capturing(task):
    try:
        task.execute({})
    except AirflowException as error:
        return error
    return None


def test_template_fields_and_extensions():
    assert BashOperator.template_fields == ("bash_command", "env", "cwd")
    assert BashOperator.template_ext == (".sh", ".bash")
    assert EmptyOperator(task_id="x").template_fields == ()


def test_env_values_are_passed_as_strings():
    assert BashOperator(task_id="t", bash_command="echo $N", env={"N": 7}).execute({}) == "7"
