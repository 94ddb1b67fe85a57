"""A process started through the forkserver without waiting for its pid."""

from __future__ import annotations

import os

from scheduler.forkserver import UnconfirmedProcess, forkserver_context


def test_an_unconfirmed_process_reads_its_pid_before_its_exit_code():
    forkserver_context()
    process = UnconfirmedProcess(target=os._exit, args=(3,))
    process.start()
    process.join(60)
    # The pid comes first on the sentinel: had it been read as the exit code, this would be it.
    assert process.exitcode == 3
    assert isinstance(process.pid, int) and process.pid != 3
    assert process.confirm() and not process.start_failed
