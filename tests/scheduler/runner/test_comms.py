"""The control channel between supervisor and task process, and its typed messages."""

from __future__ import annotations

import socket
import threading

import pytest

from scheduler.runner import comms
from scheduler.runner import messages as m


def test_frames_survive_arbitrary_read_boundaries():
    data = comms.encode(m.GetVariable(id=1, key="é" * 10)) + comms.encode(
        m.TaskResult(state="success", branch_task_ids=["a"])
    )
    reader = comms.FrameReader()

    messages = []
    for i in range(len(data)):
        messages += reader.feed(data[i : i + 1])

    assert messages == [
        m.GetVariable(id=1, key="é" * 10),
        m.TaskResult(state="success", branch_task_ids=["a"]),
    ]


def test_every_request_and_the_result_come_back_as_their_own_type():
    sent = [
        m.GetXCom(id=1, dag_id="d", run_id="r", task_id="t", key="k", map_index=2),
        m.SetXCom(id=2, dag_id="d", run_id="r", task_id="t", key="k", value={"a": [1, None]}),
        m.GetVariable(id=3, key="v"),
        m.GetConnection(id=4, conn_id="c"),
        m.Mask(id=5, values=["s3cret"]),
        m.TaskResult(state="failed", fail_without_retry=True, skip_downstream="direct"),
    ]
    reader = comms.FrameReader()

    received = reader.feed(b"".join(comms.encode(message) for message in sent))

    assert received == sent
    assert [type(message) for message in received] == [type(message) for message in sent]


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (b"not json", "Invalid JSON"),
        (b"[1, 2]", "frame"),
        (b'{"kind": "request", "op": "drop_tables", "id": 1}', "drop_tables"),
        (b'{"kind": "request", "op": "get_variable", "id": 1}', "get_variable.key: Field required"),
        (b'{"kind": "request", "op": "get_variable", "id": "x", "key": "k"}', "id"),
        (b'{"kind": "result", "state": "success", "skip_downstream": "some"}', "skip_downstream"),
        (b'{"kind": "result", "state": "success", "surprise": 1}', "surprise"),
    ],
)
def test_a_frame_that_is_not_a_message_of_the_contract_is_a_protocol_error_naming_it(
    frame, problem
):
    reader = comms.FrameReader()
    with pytest.raises(comms.ProtocolError, match="not a valid message") as raised:
        reader.feed(comms.HEADER.pack(len(frame)) + frame)
    assert problem in str(raised.value)


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
                if isinstance(message, m.GetVariable):
                    reply = m.Response(id=message.id, ok=True, value="v-" + message.key)
                else:
                    reply = m.Response(id=message.id, ok=False, status=404, message="nope")
                comms.send(supervisor_end, reply)
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


def test_an_unknown_request_is_refused_before_anything_is_sent():
    task_end, supervisor_end = socket.socketpair()
    with pytest.raises(ValueError, match="unknown request 'drop_tables'"):
        comms.SupervisorComms(task_end).request("drop_tables")
    supervisor_end.setblocking(False)
    with pytest.raises(BlockingIOError):
        supervisor_end.recv(1)
    task_end.close()
    supervisor_end.close()


def test_a_closed_channel_means_the_supervisor_is_gone():
    task_end, supervisor_end = socket.socketpair()
    supervisor_end.close()

    with pytest.raises(comms.SupervisorGone):
        comms.SupervisorComms(task_end).request("get_variable", key="x")
    task_end.close()
