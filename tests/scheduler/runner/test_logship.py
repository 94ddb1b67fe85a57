"""Cutting output into lines and shipping them in bounded chunks."""

from __future__ import annotations

from scheduler.runner.logship import LineSplitter, LogShipper


def test_lines_are_split_across_reads():
    splitter = LineSplitter()

    assert splitter.feed(b"one\ntw") == ["one"]
    assert splitter.feed(b"o\r\nthree") == ["two"]
    assert splitter.finish() == ["three"]


def test_an_absurdly_long_line_comes_out_in_pieces_of_the_limit():
    splitter = LineSplitter(max_line=10)

    lines = splitter.feed(b"x" * 25 + b"\n")

    assert lines == ["x" * 10, "x" * 10, "x" * 5]


def test_a_long_line_is_never_cut_inside_a_utf8_character():
    splitter = LineSplitter(max_line=4)

    lines = splitter.feed("aaé€b\n".encode())

    assert "".join(lines) == "aaé€b"
    assert all("\ufffd" not in line for line in lines)


def test_invalid_utf8_is_replaced_not_fatal():
    assert LineSplitter().feed(b"bad \xff byte\n") == ["bad \ufffd byte"]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_chunk_goes_out_at_the_line_limit():
    sent: list[list[str]] = []
    shipper = LogShipper(sent.append, max_lines=3, max_bytes=10_000)

    for i in range(7):
        shipper.add(f"line {i}")
    shipper.flush()

    assert [len(chunk) for chunk in sent] == [3, 3, 1]


def test_a_chunk_never_exceeds_the_byte_limit():
    sent: list[list[str]] = []
    shipper = LogShipper(sent.append, max_lines=1000, max_bytes=100)

    for _ in range(10):
        shipper.add("y" * 30)
    shipper.flush()

    assert all(sum(len(line) + 1 for line in chunk) <= 100 for chunk in sent)
    assert sum(len(chunk) for chunk in sent) == 10


def test_pending_lines_are_due_after_the_delay():
    sent: list[list[str]] = []
    clock = Clock()
    shipper = LogShipper(sent.append, max_delay=0.1, clock=clock)

    assert shipper.seconds_until_due() is None
    shipper.add("hello")
    clock.now += 0.05
    shipper.flush_if_due()
    assert sent == []
    assert abs(shipper.seconds_until_due() - 0.05) < 1e-9
    clock.now += 0.06
    shipper.flush_if_due()
    assert sent == [["hello"]]
    assert shipper.seconds_until_due() is None


def test_discard_drops_pending_lines():
    sent: list[list[str]] = []
    shipper = LogShipper(sent.append)
    shipper.add("a")
    shipper.add("b")

    assert shipper.discard() == 2
    shipper.flush()
    assert sent == []
