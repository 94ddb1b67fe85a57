"""ObjectStoragePath over local files, with Airflow's API; other schemes make paths but refuse
to be used, naming the scheme."""

from __future__ import annotations

import pytest
from fsspec.implementations.memory import MemoryFileSystem

from dagruns.sdk.io import NoFilesystemForScheme, ObjectStoragePath, attach, get_fs, has_fs


@pytest.fixture
def base(tmp_path) -> ObjectStoragePath:
    return ObjectStoragePath(f"file://{tmp_path}/")


def test_file_paths_write_read_and_list(base, tmp_path):
    folder = base / "data"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.bin").write_bytes(b"\x00\x01")
    (folder / "b.txt").write_text("hello")
    assert (tmp_path / "data" / "b.txt").read_text() == "hello"
    assert (folder / "a.bin").read_bytes() == b"\x00\x01"
    assert (folder / "b.txt").exists()
    assert not (folder / "c.txt").exists()
    assert sorted(path.name for path in folder.iterdir()) == ["a.bin", "b.txt"]
    assert all(isinstance(path, ObjectStoragePath) for path in folder.iterdir())
    assert [path.name for path in base.glob("**/*.txt")] == ["b.txt"]
    assert (folder / "b.txt").size() == 5


def test_open_reads_and_writes_through_the_filesystem(base):
    path = base / "out.csv"
    with path.open("w") as handle:
        handle.write("a,b\n")
    with path.open("rb") as handle:
        assert handle.read() == b"a,b\n"


def test_plain_local_paths_are_file_paths(tmp_path):
    (tmp_path / "x.txt").write_text("local")
    path = ObjectStoragePath(str(tmp_path / "x.txt"))
    assert path.read_text() == "local"
    assert path.fs.protocol[0] == "file"


def test_copy_and_move_within_the_local_filesystem(base, tmp_path):
    source = base / "src.txt"
    source.write_text("payload")
    source.copy(base / "copy.txt")
    assert (tmp_path / "copy.txt").read_text() == "payload"
    source.move(base / "moved.txt")
    assert not source.exists()
    assert (tmp_path / "moved.txt").read_text() == "payload"
    (base / "folder").mkdir()
    (base / "moved.txt").copy_into(base / "folder")
    assert (tmp_path / "folder" / "moved.txt").read_text() == "payload"
    with pytest.raises(NotADirectoryError):
        (base / "copy.txt").move_into(base / "nowhere")


def test_a_connection_named_in_the_url_or_as_argument_is_kept_on_derived_paths(tmp_path):
    in_url = ObjectStoragePath(f"file://my_fs@{tmp_path}/")
    as_argument = ObjectStoragePath(f"file://{tmp_path}/", conn_id="my_fs")
    for path in (in_url, as_argument):
        child = path / "sub" / "f.txt"
        assert child.conn_id == "my_fs"
        assert str(child) == f"file://my_fs@{tmp_path}/sub/f.txt"
        child.parent.mkdir(parents=True, exist_ok=True)
        child.write_text("x")  # a local path's connection is not needed, as in Airflow
    assert in_url / "sub" == as_argument / "sub"
    assert in_url != ObjectStoragePath(f"file://{tmp_path}/")  # another store


def test_bucket_key_and_namespace_of_an_object_store_url():
    path = ObjectStoragePath("s3://aws_default@my-bucket/some/key.parquet")
    assert (path.protocol, path.conn_id) == ("s3", "aws_default")
    assert path.bucket == path.container == "my-bucket"
    assert path.key == "some/key.parquet"
    assert path.namespace == "s3://my-bucket"
    assert str(path) == "s3://aws_default@my-bucket/some/key.parquet"


def test_a_scheme_without_a_filesystem_makes_a_path_but_refuses_its_use_naming_it():
    path = ObjectStoragePath("s3://aws_default@bucket/")
    for use in (path.exists, lambda: (path / "k").read_text(), lambda: path.fs, path.mkdir):
        with pytest.raises(NoFilesystemForScheme, match="No filesystem registered for scheme s3"):
            use()
    assert not has_fs("s3")
    assert has_fs("file")
    with pytest.raises(ValueError, match="scheme gs"):
        get_fs("gs")


def test_an_attached_filesystem_serves_its_scheme():
    memory = MemoryFileSystem()
    attach("memory", conn_id="scratch", fs=memory)
    path = ObjectStoragePath("memory://scratch@/tests/one.txt")
    path.write_text("in memory")
    assert memory.cat_file("/tests/one.txt") == b"in memory"
    assert path.fs is memory


def test_serialize_round_trips(base):
    path = ObjectStoragePath(str(base / "f.txt"), conn_id="c")
    again = ObjectStoragePath.deserialize(path.serialize(), ObjectStoragePath.__version__)
    assert again == path and again.conn_id == "c"
    with pytest.raises(ValueError, match="Cannot deserialize version 2"):
        ObjectStoragePath.deserialize(path.serialize(), 2)


def test_attach_refuses_encryption_it_would_not_apply():
    with pytest.raises(ValueError, match="encryption_type='aws:kms'"):
        attach("file", encryption_type="aws:kms")


def test_a_path_made_before_its_filesystem_is_attached_uses_it_once_attached():
    # As in Airflow, where a path finds its store when used: a module-level base path, then
    # attach(fs=...) in the task.
    path = ObjectStoragePath("gcs://late_attach@bucket/late.txt")
    with pytest.raises(NoFilesystemForScheme, match="scheme gcs"):
        path.exists()
    attach("gcs", conn_id="late_attach", fs=MemoryFileSystem(skip_instance_cache=True))
    path.write_text("late")
    assert path.read_text() == "late"
    assert (path.parent / "late.txt").exists()


def test_another_filesystem_for_an_attached_store_is_refused_naming_the_store():
    first = MemoryFileSystem(skip_instance_cache=True)
    attach("memory", conn_id="twice", fs=first)
    assert attach("memory", conn_id="twice", fs=first).fs is first
    with pytest.raises(ValueError, match="already attached as 'memory-twice'"):
        attach("memory", conn_id="twice", fs=MemoryFileSystem(skip_instance_cache=True))


def test_a_paths_storage_options_reach_its_filesystem(tmp_path):
    path = ObjectStoragePath(f"file://{tmp_path}/x", auto_mkdir=True)
    assert path.__wrapped__.fs.auto_mkdir is True
    assert path.fs is path.__wrapped__.fs  # what the path's operations use
    assert (path / "child").__wrapped__.fs.auto_mkdir is True
    assert ObjectStoragePath(f"file://{tmp_path}/y").__wrapped__.fs.auto_mkdir is False
