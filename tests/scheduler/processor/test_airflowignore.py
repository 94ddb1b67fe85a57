"""`.airflowignore` as Airflow 3 reads it: glob (the default) and regexp syntax, applying to its
folder and below, next to our `.dagignore`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from scheduler.processor import airflowignore
from scheduler.processor.airflowignore import AirflowIgnore
from scheduler.processor.files import list_py_files


def _tree(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("# dag")


def _names(root: Path, syntax: str = "glob") -> list[str]:
    return [p.relative_to(root).as_posix() for p in list_py_files(root, syntax)]


def test_glob_patterns_without_a_slash_match_names_at_any_depth(tmp_path):
    _tree(tmp_path, "keep.py", "scratch_a.py", "sub/scratch_b.py", "sub/ok.py")
    (tmp_path / ".airflowignore").write_text("scratch_*  # drafts\n\n# a comment line\n")
    assert _names(tmp_path) == ["keep.py", "sub/ok.py"]


def test_glob_patterns_with_a_slash_are_relative_to_their_ignore_file(tmp_path):
    _tree(tmp_path, "a/x.py", "b/a/x.py", "sub/a/x.py", "sub/keep.py")
    (tmp_path / ".airflowignore").write_text("a/x.py\n")
    (tmp_path / "sub" / ".airflowignore").write_text("/a/\n")
    assert _names(tmp_path) == ["b/a/x.py", "sub/keep.py"]


def test_a_glob_folder_pattern_skips_the_folder_but_not_a_file_of_that_name(tmp_path):
    _tree(tmp_path, "build/dag.py", "other/build.py")
    (tmp_path / ".airflowignore").write_text("build/\nbuild.py/\n")
    assert _names(tmp_path) == ["other/build.py"]


def test_a_later_negation_re_includes_even_what_a_parent_folder_ignored(tmp_path):
    _tree(tmp_path, "tmp_one.py", "sub/tmp_keep.py", "sub/tmp_two.py")
    (tmp_path / ".airflowignore").write_text("tmp_*\n")
    (tmp_path / "sub" / ".airflowignore").write_text("!tmp_keep.py\n")
    assert _names(tmp_path) == ["sub/tmp_keep.py"]


def test_a_nested_airflowignore_does_not_apply_to_its_parent(tmp_path):
    _tree(tmp_path, "x.py", "sub/x.py")
    (tmp_path / "sub" / ".airflowignore").write_text("x.py\n")
    assert _names(tmp_path) == ["x.py"]


def test_regexp_patterns_search_the_path_relative_to_the_dags_folder(tmp_path):
    _tree(
        tmp_path,
        "project_a_dag_1.py",
        "TESTING_project_a.py",
        "tenant_1.py",
        "project_a/dag_1.py",
        "tenant_1/dag_1.py",
        "tenant_x.py",
        "deep/nested/thing.py",
    )
    # Airflow's documented example, plus a nested file whose pattern sees the whole relative
    # path (so "deep/" in it matches), not the path below its own folder.
    (tmp_path / ".airflowignore").write_text("project_a\ntenant_[\\d]\n")
    (tmp_path / "deep" / "nested" / ".airflowignore").write_text("^deep/nested/th")
    assert _names(tmp_path, "regexp") == ["tenant_x.py"]


def test_regexp_syntax_does_not_read_patterns_as_globs(tmp_path):
    _tree(tmp_path, "a.py", "b.py")
    (tmp_path / ".airflowignore").write_text("*.py\n")  # an invalid regular expression
    assert _names(tmp_path, "glob") == []
    assert _names(tmp_path, "regexp") == ["a.py", "b.py"]


def test_an_invalid_pattern_is_skipped_with_a_warning_naming_file_and_pattern(tmp_path, caplog):
    airflowignore._warned.clear()
    _tree(tmp_path, "a.py", "b.py")
    (tmp_path / ".airflowignore").write_text("[unclosed\nb\\.py\n")
    with caplog.at_level(logging.WARNING, logger=airflowignore.__name__):
        assert _names(tmp_path, "regexp") == ["a.py"]
    (message,) = [r.getMessage() for r in caplog.records]
    assert str(tmp_path / ".airflowignore") in message and "'[unclosed'" in message


def test_airflowignore_and_dagignore_both_apply(tmp_path):
    _tree(tmp_path, "a.py", "b.py", "c.py")
    (tmp_path / ".airflowignore").write_text("a.py\n")
    (tmp_path / ".dagignore").write_text("b.py\n")
    assert _names(tmp_path) == ["c.py"]


def test_an_unknown_syntax_is_refused_naming_it(tmp_path):
    with pytest.raises(ValueError, match="dag_ignore_file_syntax.*'fnmatch'"):
        AirflowIgnore.start(tmp_path, "fnmatch")


@pytest.mark.django_db
def test_the_processor_reads_airflowignore_in_the_configured_syntax(dags_folder, orch_settings):
    from dagruns.models import DagModel
    from scheduler.processor.loop import DagProcessor
    from tests.builders import simple_dag, write

    write(dags_folder, "tenant_1.py", simple_dag("tenant_one"))
    write(dags_folder, "kept.py", simple_dag("kept"))
    (dags_folder / ".airflowignore").write_text("tenant_[\\d]\n")
    orch_settings.dag_ignore_file_syntax = "regexp"
    DagProcessor().run_once()
    assert set(DagModel.objects.filter(is_active=True).values_list("dag_id", flat=True)) == {"kept"}
    # As a glob, the same line names nothing here: the file is parsed once the syntax changes.
    orch_settings.dag_ignore_file_syntax = "glob"
    DagProcessor().run_once()
    assert DagModel.objects.filter(dag_id="tenant_one").exists()
