"""Each broken DAG file is reported as an import error naming the file (and line where known),
and never stops the other files from being processed."""

from __future__ import annotations

import pytest

from dagruns.models import DagImportError, DagModel
from scheduler.processor.loop import DagProcessor
from tests.builders import HEADER, simple_dag, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def good_file(dags_folder):
    """A healthy neighbour: it must be stored whatever its broken siblings do."""
    return write(dags_folder, "zz_good.py", simple_dag("good_neighbour"))


def run(timeout: float = 10.0):
    return DagProcessor(timeout=timeout).run_once()


def error_for(path) -> DagImportError:
    return DagImportError.objects.get(filename=str(path))


def assert_neighbour_fine():
    assert DagModel.objects.get(dag_id="good_neighbour").is_active


def test_a_syntax_error_is_reported_with_its_line(dags_folder, good_file):
    path = write(dags_folder, "broken.py", HEADER + "\nwith DAG(dag_id='x' as dag:\n    pass\n")
    report = run()
    error = error_for(path)
    assert error.message.startswith("SyntaxError")
    assert error.line_number == 4
    assert report.errors == 1
    assert_neighbour_fine()


def test_a_file_that_raises_on_import_is_reported_with_the_raising_line(dags_folder, good_file):
    path = write(dags_folder, "raises.py", HEADER + "x = 1\nraise ValueError('no config here')\n")
    run()
    error = error_for(path)
    assert error.message == "ValueError: no config here"
    assert error.line_number == 4
    assert "raises.py" in error.stack_trace and "line 4" in error.stack_trace
    assert_neighbour_fine()


def test_a_file_that_loops_forever_is_stopped_at_the_timeout(dags_folder, good_file):
    path = write(dags_folder, "loops.py", HEADER + "while True:\n    pass\n")
    run(timeout=1.0)
    error = error_for(path)
    assert "took longer than 1 s" in error.message
    assert error.line_number in (3, 4)  # the alarm lands inside the loop
    assert_neighbour_fine()


def test_a_loop_that_swallows_the_timeout_is_killed(dags_folder, good_file):
    body = HEADER + "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
    body += "    except BaseException:\n        pass\n"
    path = write(dags_folder, "stubborn.py", body)
    run(timeout=0.5)
    error = error_for(path)
    assert "killed" in error.message
    assert_neighbour_fine()


def test_a_cycle_is_reported_naming_its_tasks(dags_folder, good_file):
    path = write(
        dags_folder,
        "cycle.py",
        HEADER
        + "with DAG(dag_id='cyclic', schedule=None, start_date=datetime(2024, 1, 1)) as dag:\n"
        + "    a = EmptyOperator(task_id='a')\n    b = EmptyOperator(task_id='b')\n"
        + "    c = EmptyOperator(task_id='c')\n    a >> b >> c >> a\n",
    )
    run()
    error = error_for(path)
    assert "cycle" in error.message.lower()
    assert "'a'" in error.message or "a" in error.message.split("cycle")[-1]
    assert not DagModel.objects.filter(dag_id="cyclic").exists()
    assert_neighbour_fine()


def test_a_duplicate_task_id_is_reported_at_its_line(dags_folder, good_file):
    path = write(
        dags_folder,
        "dup_task.py",
        HEADER
        + "with DAG(dag_id='dup_task', schedule=None, start_date=datetime(2024, 1, 1)) as dag:\n"
        + "    EmptyOperator(task_id='same')\n"
        + "    EmptyOperator(task_id='same')\n",
    )
    run()
    error = error_for(path)
    assert "same" in error.message
    assert error.line_number == 5
    assert_neighbour_fine()


def test_an_unknown_trigger_rule_is_reported_naming_the_value(dags_folder, good_file):
    path = write(
        dags_folder,
        "bad_rule.py",
        HEADER
        + "with DAG(dag_id='bad_rule', schedule=None, start_date=datetime(2024, 1, 1)) as dag:\n"
        + "    EmptyOperator(task_id='t', trigger_rule='all_sucess')\n",
    )
    run()
    error = error_for(path)
    assert "all_sucess" in error.message
    assert error.line_number == 4
    assert_neighbour_fine()


def test_a_bad_cron_expression_is_reported_naming_it(dags_folder, good_file):
    path = write(
        dags_folder,
        "bad_cron.py",
        HEADER
        + "dag = DAG(dag_id='bad_cron', schedule='61 * * * *', start_date=datetime(2024, 1, 1))\n",
    )
    run()
    error = error_for(path)
    assert "61 * * * *" in error.message
    assert error.line_number == 3
    assert_neighbour_fine()


def test_a_dag_id_with_forbidden_characters_is_reported(dags_folder, good_file):
    path = write(
        dags_folder,
        "bad_id.py",
        HEADER + "dag = DAG(dag_id='my dag/<x>', schedule=None, start_date=datetime(2024, 1, 1))\n",
    )
    run()
    error = error_for(path)
    assert "my dag/<x>" in error.message
    assert error.line_number == 3
    assert_neighbour_fine()


def test_a_naive_start_date_is_taken_as_utc(dags_folder):
    write(dags_folder, "naive.py", simple_dag("naive_start"))
    run()
    version = DagModel.objects.get(dag_id="naive_start").latest_version()
    assert version.serialized["start_date"].startswith("2024-01-01T00:00:00")
    assert version.serialized["start_date"].endswith("+00:00")
    assert not DagImportError.objects.exists()


def test_a_file_that_defines_no_dag_is_ignored_without_error(dags_folder, good_file):
    write(dags_folder, "helpers.py", "def dag_helper():\n    return 42\n")
    write(dags_folder, "plain.py", "VALUE = 1\n")
    report = run()
    assert not DagImportError.objects.exists()
    assert DagModel.objects.count() == 1
    assert report.errors == 0
    assert_neighbour_fine()


def test_a_five_megabyte_file_is_parsed(dags_folder):
    padding = "# " + "x" * 98 + "\n"
    body = simple_dag("big_file") + padding * 52_000
    path = write(dags_folder, "big.py", body)
    assert path.stat().st_size > 5_000_000
    run()
    dag = DagModel.objects.get(dag_id="big_file")
    assert len(dag.latest_version().source_code) > 5_000_000
    assert not DagImportError.objects.exists()


def test_a_file_deleted_while_being_parsed_leaves_no_dag_and_no_error(dags_folder, good_file):
    body = simple_dag("self_deleting", extra="import os\nos.remove(__file__)\n")
    write(dags_folder, "vanishing.py", body)
    run()
    assert not DagModel.objects.filter(dag_id="self_deleting", is_active=True).exists()
    assert not DagImportError.objects.exists()
    assert_neighbour_fine()


def test_a_file_deleted_between_listing_and_parsing_is_simply_gone(dags_folder, good_file):
    path = write(dags_folder, "gone.py", simple_dag("gone"))
    processor = DagProcessor()
    results = list(processor.pool.parse([str(path)]))  # warm: it exists here
    assert results[0]["dags"]
    path.unlink()
    results = list(processor.pool.parse([str(path)]))
    assert results[0]["vanished"] is True
    assert results[0]["error"] is None


def test_two_files_defining_one_dag_id_are_reported_naming_both(dags_folder):
    first = write(dags_folder, "a_first.py", simple_dag("shared_id"))
    second = write(dags_folder, "b_second.py", simple_dag("shared_id", tasks=3))
    run()
    error = error_for(second)
    assert str(first) in error.message and str(second) in error.message
    assert DagModel.objects.get(dag_id="shared_id").fileloc == str(first)
    assert not DagImportError.objects.filter(filename=str(first)).exists()


def test_the_second_owner_takes_over_when_the_first_file_goes(dags_folder):
    first = write(dags_folder, "a_first.py", simple_dag("shared_id"))
    second = write(dags_folder, "b_second.py", simple_dag("shared_id", tasks=3))
    run()
    first.unlink()
    run()  # forgets the first file and re-queues the refused one
    run()
    dag = DagModel.objects.get(dag_id="shared_id")
    assert dag.is_active and dag.fileloc == str(second)
    assert not DagImportError.objects.exists()


def test_one_file_defining_the_same_dag_id_twice_is_an_error(dags_folder):
    body = HEADER + (
        "a = DAG(dag_id='twice', schedule=None, start_date=datetime(2024, 1, 1))\n"
        "b = DAG(dag_id='twice', schedule=None, start_date=datetime(2024, 1, 1))\n"
    )
    path = write(dags_folder, "twice.py", body)
    run()
    assert "twice" in error_for(path).message


def test_a_file_that_calls_sys_exit_is_an_import_error(dags_folder, good_file):
    path = write(dags_folder, "exits.py", HEADER + "import sys\nsys.exit(3)\n")
    run()
    assert "SystemExit" in error_for(path).message
    assert_neighbour_fine()


def test_a_file_that_kills_its_own_process_is_reported(dags_folder, good_file):
    path = write(
        dags_folder,
        "suicide.py",
        HEADER + "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    )
    run()
    assert "died" in error_for(path).message
    assert_neighbour_fine()


def test_fixing_a_broken_file_clears_its_import_error(dags_folder):
    path = write(dags_folder, "fixme.py", HEADER + "raise RuntimeError('broken')\n")
    run()
    assert DagImportError.objects.filter(filename=str(path)).exists()
    write(dags_folder, "fixme.py", simple_dag("fixed_now"))
    run()
    assert not DagImportError.objects.exists()
    assert DagModel.objects.get(dag_id="fixed_now").has_import_errors is False
