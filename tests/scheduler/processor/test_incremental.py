"""The processor parses only what changed, versions only what changed structurally, and
forgets what vanished."""

from __future__ import annotations

import os

import pytest

from dagruns.models import DagFile, DagModel, DagTag, DagVersion
from scheduler.processor.loop import DagProcessor
from tests.builders import simple_dag, write

pytestmark = pytest.mark.django_db


def run():
    return DagProcessor().run_once()


def test_an_unchanged_file_is_not_parsed_again(dags_folder):
    write(dags_folder, "one.py", simple_dag("one"))
    assert run().parsed == 1
    report = run()
    assert report.parsed == 0 and report.unchanged == 1


def test_a_touched_file_with_the_same_content_is_not_parsed_again(dags_folder):
    path = write(dags_folder, "one.py", simple_dag("one"))
    run()
    os.utime(path, (1_000_000, 1_000_000))
    report = run()
    assert report.parsed == 0
    assert DagFile.objects.get(fileloc=str(path)).mtime == 1_000_000


def test_a_structural_change_stores_a_new_version(dags_folder):
    write(dags_folder, "one.py", simple_dag("one", tasks=2))
    run()
    write(dags_folder, "one.py", simple_dag("one", tasks=3))
    assert run().parsed == 1
    versions = list(DagVersion.objects.filter(dag_id="one").order_by("version_number"))
    assert [v.version_number for v in versions] == [1, 2]
    assert len(versions[1].serialized["tasks"]) == 3


def test_a_comment_only_change_updates_the_source_without_a_new_version(dags_folder):
    write(dags_folder, "one.py", simple_dag("one"))
    run()
    write(dags_folder, "one.py", "# a new comment\n" + simple_dag("one"))
    run()
    versions = DagVersion.objects.filter(dag_id="one")
    assert versions.count() == 1
    assert versions.get().source_code.startswith("# a new comment")


def test_a_vanished_file_makes_its_dags_inactive(dags_folder):
    path = write(dags_folder, "one.py", simple_dag("one"))
    run()
    path.unlink()
    assert run().forgotten == 1
    assert DagModel.objects.get(dag_id="one").is_active is False
    assert not DagFile.objects.exists()


def test_a_dag_removed_from_its_file_becomes_inactive(dags_folder):
    write(
        dags_folder,
        "pair.py",
        simple_dag("first") + simple_dag("second").replace("as dag:", "as dag2:"),
    )
    run()
    assert set(DagModel.objects.filter(is_active=True).values_list("dag_id", flat=True)) == {
        "first",
        "second",
    }
    write(dags_folder, "pair.py", simple_dag("first"))
    run()
    assert DagModel.objects.get(dag_id="second").is_active is False


def test_a_reappearing_dag_is_active_again(dags_folder):
    path = write(dags_folder, "one.py", simple_dag("one"))
    run()
    path.unlink()
    run()
    write(dags_folder, "one.py", simple_dag("one"))
    run()
    assert DagModel.objects.get(dag_id="one").is_active is True


def test_tags_follow_the_file(dags_folder):
    write(dags_folder, "one.py", simple_dag("one", tags="['a', 'b']"))
    run()
    assert set(DagTag.objects.values_list("name", flat=True)) == {"a", "b"}
    write(dags_folder, "one.py", simple_dag("one", tags="['b', 'c']"))
    run()
    assert set(DagTag.objects.values_list("name", flat=True)) == {"b", "c"}


def test_new_dags_are_paused_at_creation_unless_they_say_otherwise(dags_folder, orch_settings):
    write(dags_folder, "one.py", simple_dag("one"))
    write(
        dags_folder,
        "two.py",
        simple_dag("two").replace("tags=[])", "tags=[], is_paused_upon_creation=False)"),
    )
    run()
    assert DagModel.objects.get(dag_id="one").is_paused is True
    assert DagModel.objects.get(dag_id="two").is_paused is False


def test_pausing_survives_reparsing(dags_folder):
    write(dags_folder, "one.py", simple_dag("one"))
    run()
    DagModel.objects.filter(dag_id="one").update(is_paused=False)
    write(dags_folder, "one.py", simple_dag("one", tasks=4))
    run()
    assert DagModel.objects.get(dag_id="one").is_paused is False


def test_the_dags_folder_is_importable_from_dag_files(dags_folder):
    write(dags_folder, "common/__init__.py", "")
    write(dags_folder, "common/ids.py", "PREFIX = 'shared'\n")
    write(
        dags_folder,
        "uses_helper.py",
        simple_dag("placeholder")
        .replace("'placeholder'", "PREFIX + '_dag'")
        .replace("from dagruns.sdk", "from common.ids import PREFIX\nfrom dagruns.sdk"),
    )
    run()
    assert DagModel.objects.filter(dag_id="shared_dag").exists()


def test_example_dags_load_when_asked(dags_folder, orch_settings):
    orch_settings.load_examples = True
    report = run()
    assert report.errors == 0, list(
        __import__("dagruns.models", fromlist=["DagImportError"]).DagImportError.objects.values()
    )
    ids = set(DagModel.objects.values_list("dag_id", flat=True))
    assert {
        "example_taskflow_etl",
        "example_branching",
        "example_retries",
        "example_fan_out",
        "example_params",
        "example_task_groups",
    } <= ids
    orch_settings.load_examples = False
    run()
    assert not DagModel.objects.filter(is_active=True, dag_id__startswith="example_").exists()


def test_the_relative_fileloc_is_relative_to_the_dags_folder(dags_folder):
    write(dags_folder, "team/one.py", simple_dag("one"))
    run()
    assert DagModel.objects.get(dag_id="one").relative_fileloc == "team/one.py"


def test_moving_the_start_date_recomputes_the_next_run(dags_folder):
    body = simple_dag("moving").replace("schedule=None", "schedule='@daily'")
    write(dags_folder, "moving.py", body)
    run()
    assert DagModel.objects.get(dag_id="moving").next_dagrun is not None
    write(dags_folder, "moving.py", body.replace("datetime(2024, 1, 1)", "datetime(2999, 1, 1)"))
    run()
    assert DagModel.objects.get(dag_id="moving").next_dagrun.year == 2999


def test_a_dags_display_name_is_stored_and_defaults_to_its_dag_id(dags_folder):
    write(
        dags_folder,
        "named.py",
        "from datetime import datetime\n"
        "from dagruns.sdk import DAG, EmptyOperator\n"
        "with DAG('named', dag_display_name='Named pipeline', schedule=None,\n"
        "         start_date=datetime(2024, 1, 1)):\n"
        "    EmptyOperator(task_id='a')\n",
    )
    write(dags_folder, "one.py", simple_dag("one"))
    run()
    assert DagModel.objects.get(dag_id="named").dag_display_name == "Named pipeline"
    assert DagModel.objects.get(dag_id="one").dag_display_name == "one"
