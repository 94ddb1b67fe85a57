"""The control channel between supervisor and task process."""

from __future__ import annotations

import socket
import threading

import pytest

from scheduler.runner import comms


def test_frames_survive_arbitrary_read_boundaries():
    data = comms.encode({"kind": "a", "n": 1}) + comms.encode({"kind": "b", "text": "é" * 10})
    reader = comms.FrameReader()

    messages = []
    for i in range(len(data)):
        messages += reader.feed(data[i : i + 1])

    assert messages == [{"kind": "a", "n": 1}, {"kind": "b", "text": "é" * 10}]


def test_an_oversized_frame_is_a_protocol_error():
    reader = comms.FrameReader()
    with pytest.raises(comms.ProtocolError):
        reader.feed(comms.HEADER.pack(comms.MAX_FRAME + 1))


def test_a_request_gets_its_answer_and_a_failure_raises_request_failed():
    task_end, supervisor_end = socket.socketpair()

    def supervisor() -> None:
        reader = comms.FrameReader()
        answered = 0
        while answered < 2:
            for message in reader.feed(supervisor_end.recv(65536)):
                if message["op"] == "get_variable":
                    reply = {"ok": True, "value": "v-" + message["key"]}
                else:
                    reply = {"ok": False, "status": 404, "detail": None, "message": "nope"}
                comms.send(supervisor_end, {"kind": "response", "id": message["id"], **reply})
                answered += 1

    thread = threading.Thread(target=supervisor, daemon=True)
    thread.start()
    channel = comms.SupervisorComms(task_end)

    assert channel.request("get_variable", key="x") == "v-x"
    with pytest.raises(comms.RequestFailed) as raised:
        channel.request("get_connection", conn_id="c")
    assert raised.value.status == 404
    assert raised.value.message == "nope"
    thread.join(5)
    task_end.close()
    supervisor_end.close()


def test_a_closed_channel_means_the_supervisor_is_gone():
    task_end, supervisor_end = socket.socketpair()
    supervisor_end.close()

    with pytest.raises(comms.SupervisorGone):
        comms.SupervisorComms(task_end).request("get_variable", key="x")
    task_end.close()
