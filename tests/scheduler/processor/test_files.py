"""Finding DAG files: .dagignore, ordering, the "mentions a DAG" heuristic."""

from __future__ import annotations

from pathlib import Path

from scheduler.processor.files import list_py_files, mentions_dag


def _names(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in list_py_files(root)]


def test_it_lists_python_files_recursively_in_sorted_order(tmp_path):
    for name in ("b.py", "a.py", "sub/c.py", "notes.txt", "sub/deeper/d.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# dag")
    assert _names(tmp_path) == ["a.py", "b.py", "sub/c.py", "sub/deeper/d.py"]


def test_it_honours_dagignore_in_gitignore_syntax(tmp_path):
    for name in ("keep.py", "scratch_one.py", "vendor/lib.py", "sub/skip_me.py", "sub/ok.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# dag")
    (tmp_path / ".dagignore").write_text("# comment\nscratch_*\nvendor/\n")
    (tmp_path / "sub" / ".dagignore").write_text("skip_me.py\n")
    assert _names(tmp_path) == ["keep.py", "sub/ok.py"]


def test_a_nested_dagignore_does_not_apply_to_its_parent(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "x.py").write_text("")
    (tmp_path / "sub" / "x.py").write_text("")
    (tmp_path / "sub" / ".dagignore").write_text("x.py\n")
    assert _names(tmp_path) == ["x.py"]


def test_it_skips_hidden_folders_and_pycache(tmp_path):
    for name in (".git/hook.py", "__pycache__/m.py", "real.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert _names(tmp_path) == ["real.py"]


def test_a_file_that_never_says_dag_is_not_a_dag_file():
    assert mentions_dag(b"from dagruns.sdk import DAG")
    assert mentions_dag(b"@Dag()")
    assert not mentions_dag(b"def helper():\n    return 1\n")
