"""Per-try log files: where they live, appending, reading a window of them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dagruns.domain import logs


@pytest.fixture
def log_dir(orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    return tmp_path / "logs"


def test_the_path_follows_airflows_layout_with_percent_encoded_components(log_dir):
    path = logs.log_path("etl", "manual__2024-01-01T00:00:00+00:00", "group.task", 2)
    assert path == (
        log_dir
        / "dag_id=etl"
        / "run_id=manual__2024-01-01T00%3A00%3A00%2B00%3A00"
        / "task_id=group.task"
        / "attempt=2.log"
    )


def test_a_run_id_with_slashes_or_dots_stays_one_component_inside_the_log_dir(log_dir):
    path = logs.log_path("etl", "../../etc/passwd", "t", 1)
    assert path.parent.parent.name == "run_id=..%2F..%2Fetc%2Fpasswd"
    assert path.resolve().is_relative_to(log_dir.resolve())
    assert logs.log_path("etl", "..", "t", 1).parent.parent.name == "run_id=.."


def test_a_mapped_task_instance_gets_a_map_index_level(log_dir):
    path = logs.log_path("etl", "r", "t", 1, map_index=3)
    assert path.relative_to(log_dir).parts[-2:] == ("map_index=3", "attempt=1.log")


def test_ti_log_path_uses_the_try_the_task_instance_is_at(log_dir):
    ti = SimpleNamespace(dag_id="etl", run_id="r", task_id="t", map_index=-1, try_number=3)
    assert logs.ti_log_path(ti).name == "attempt=3.log"
    assert logs.ti_log_path(ti, try_number=1).name == "attempt=1.log"


def test_append_lines_creates_the_file_and_ends_every_line_once(log_dir):
    path = logs.log_path("etl", "r", "t", 1)
    assert logs.append_lines(path, ["one", "two\n", "three\r\n"]) == len("one\ntwo\nthree\n")
    logs.append_lines(path, ["four"])
    assert path.read_text() == "one\ntwo\nthree\nfour\n"
    assert logs.log_size(path) == len("one\ntwo\nthree\nfour\n")


def test_appending_nothing_creates_nothing(log_dir):
    path = logs.log_path("etl", "r", "t", 1)
    assert logs.append_lines(path, []) == 0
    assert not path.exists()
    assert logs.log_size(path) == 0


def test_reading_a_missing_log_is_empty(log_dir):
    chunk = logs.read_log(logs.log_path("etl", "r", "t", 1))
    assert (chunk.content, chunk.size, chunk.eof) == ("", 0, True)


def test_reading_with_offset_and_limit_pages_through_whole_lines(log_dir):
    path = logs.log_path("etl", "r", "t", 1)
    logs.append_lines(path, ["aaaa", "bbbb", "cccc"])  # 5 bytes per line
    first = logs.read_log(path, offset=0, limit=12)
    assert (first.content, first.next_offset, first.eof) == ("aaaa\nbbbb\n", 10, False)
    rest = logs.read_log(path, offset=first.next_offset, limit=12)
    assert (rest.content, rest.next_offset, rest.eof) == ("cccc\n", 15, True)
    logs.append_lines(path, ["dddd"])  # a tailing reader picks up where it stopped
    assert logs.read_log(path, offset=rest.next_offset).content == "dddd\n"


def test_a_line_longer_than_the_limit_comes_in_pieces(log_dir):
    path = logs.log_path("etl", "r", "t", 1)
    logs.append_lines(path, ["x" * 10])
    chunk = logs.read_log(path, offset=0, limit=4)
    assert (chunk.content, chunk.next_offset) == ("xxxx", 4)


def test_reading_past_the_end_is_empty_and_at_eof(log_dir):
    path = logs.log_path("etl", "r", "t", 1)
    logs.append_lines(path, ["x"])
    chunk = logs.read_log(path, offset=100)
    assert (chunk.content, chunk.offset, chunk.eof) == ("", 2, True)


def test_invalid_offsets_are_refused(log_dir):
    with pytest.raises(ValueError):
        logs.read_log(logs.log_path("e", "r", "t", 1), offset=-1)


def test_raw_chunks_stop_at_the_size_the_file_had_when_reading_began(log_dir, monkeypatch):
    monkeypatch.setattr(logs, "STREAM_CHUNK_BYTES", 4)
    log_dir.mkdir(parents=True)
    path = log_dir / "a.log"
    path.write_bytes(b"0123456789")
    chunks = logs.raw_chunks(path)
    assert next(chunks) == b"0123"
    logs.append_lines(path, ["later"])  # a running try keeps writing
    assert b"".join(chunks) == b"456789"


def test_line_chunks_end_on_line_boundaries_and_keep_a_long_line_whole(log_dir, monkeypatch):
    monkeypatch.setattr(logs, "STREAM_CHUNK_BYTES", 8)
    path = log_dir / "a.log"
    logs.append_lines(path, ["ab", "a line much longer than eight bytes", "cd", "tail"])
    pieces = list(logs.line_chunks(path))
    # Every piece ends a line, so no line (not even the long one) is split between two.
    assert all(piece.endswith("\n") for piece in pieces)
    assert pieces[0] == "ab\n"
    assert "".join(pieces) == path.read_text()


def test_line_chunks_cut_a_line_beyond_max_line_bytes(log_dir, monkeypatch):
    monkeypatch.setattr(logs, "STREAM_CHUNK_BYTES", 4)
    monkeypatch.setattr(logs, "MAX_LINE_BYTES", 16)
    path = log_dir / "a.log"
    logs.append_lines(path, ["x" * 40])
    pieces = list(logs.line_chunks(path))
    assert max(len(piece) for piece in pieces) <= 16
    assert "".join(pieces) == "x" * 40 + "\n"


def test_streamed_under_asgi_is_an_async_iterator_that_closes_its_source(log_dir):
    import asyncio

    closed = []

    def source():
        try:
            yield from ("a", "b", "c")
        finally:
            closed.append(True)

    async def first_two():
        body = logs.streamed(source(), asynchronous=True)
        got = [await anext(body), await anext(body)]
        await body.aclose()  # a client that went away mid-download
        return got

    assert asyncio.run(first_two()) == ["a", "b"]
    assert closed == [True]
    assert list(logs.streamed(iter(["x"]), asynchronous=False)) == ["x"]
