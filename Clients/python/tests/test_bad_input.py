"""Bad input from the Python side: refused locally, or by the server with a typed error,
and never at the cost of the connection (unless the protocol says so)."""

from __future__ import annotations

import socket
import struct
import threading
import uuid

import pytest

import logbook_client
import logbook_client.aio
from logbook_client import ALL, EventData, StreamAppend
from logbook_client._pb.logbook.v1 import frame_pb2

from rawwire import RawConnection, scripted_server


def ev(**kw) -> EventData:
    return EventData.json("Happened", {}, **kw)


# --- NUL characters: protobuf-c (the daemon's decoder) reads strings as C strings ----------


@pytest.mark.parametrize(
    "make",
    [
        lambda s: StreamAppend(s + "\0x", [ev()]),
        lambda s: StreamAppend(s, [EventData("Ty\0pe")]),
        lambda s: StreamAppend(s, [EventData("T", b"", content_type="text/\0plain")]),
        lambda s: StreamAppend(s, [ev(metadata={"k\0": "v"})]),
        lambda s: StreamAppend(s, [ev(metadata={"k": "v\0"})]),
        lambda s: StreamAppend(s, [ev(correlation_id="c\0")]),
        lambda s: StreamAppend(s, [ev(causation_id="\0")]),
    ],
    ids=["stream", "type", "content_type", "metadata-key", "metadata-value", "correlation", "causation"],
)
def test_nul_in_any_append_string_is_refused_before_sending(client, name, make):
    with pytest.raises(logbook_client.InvalidArgument) as raised:
        client.append_many([make(name)])
    error = raised.value
    assert not error.from_server
    assert isinstance(error.details, logbook_client.BadFieldDetail)
    assert "NUL" in error.message
    assert list(client.read(category=name)) == []
    assert client.append(f"{name}-ok", [ev()]).last_revision == 0


def test_nul_in_read_strings_is_refused_before_sending(client):
    for kwargs in ({"selector": "a\0"}, {"category": "\0"}, {"event_type": "x\0"},
                   {"correlation_id": "\0"}, {"selector": ALL, "event_types": ["a\0"]},
                   {"selector": ALL, "stream_prefix": "p\0"}):  # fmt: skip
        with pytest.raises(logbook_client.InvalidArgument):
            client.read(**kwargs)


def test_binary_data_may_hold_nul(client, name):
    data = bytes(range(256)) * 4
    client.append(f"{name}-1", [EventData("Bin", data)])
    assert next(iter(client.read(f"{name}-1"))).data == data


def test_lone_surrogate_is_refused_before_sending(client, name):
    with pytest.raises(logbook_client.InvalidArgument):
        client.append(f"{name}-\udc80", [ev()])


@pytest.mark.parametrize("field", ["stream", "type", "metadata", "correlation_id"])
def test_server_refuses_nul_sent_by_a_peer_without_the_check(daemon, name, field):
    """A peer that skips the check (plain protobuf allows U+0000 in a string) gets
    INVALID_ARGUMENT from the daemon rather than a silently truncated string. The daemon
    finds it while decoding the frame, so it answers on call 0 and closes the connection:
    every other call on it fails too. Hence the client's own check."""
    raw = RawConnection(daemon.socket_path)
    frame = frame_pb2.Frame(call_id=1)
    append = frame.append_request.streams.add(stream=f"{name}-1")
    event = append.events.add(id=uuid.uuid4().bytes, type="T", data=b"{}", content_type="application/json")
    if field == "stream":
        append.stream = f"{name}-1\0tail"
    elif field == "type":
        event.type = "T\0tail"
    elif field == "metadata":
        event.metadata.add(key="k", value="v\0tail")
    else:
        event.correlation_id = "c\0tail"
    raw.send(frame)
    status = raw.receive()
    assert status is not None and status.WhichOneof("body") == "status", status
    assert status.status.code == logbook_client.Code.INVALID_ARGUMENT, status
    assert status.call_id in (0, 1)
    if status.call_id == 0:
        assert raw.receive() is None  # the connection is closed
    raw.close()
    with logbook_client.Client(daemon.socket_path) as client:
        assert list(client.read(f"{name}-1")) == []


def test_nul_past_the_client_check_surfaces_as_invalid_argument(daemon, name, monkeypatch):
    """Were the local check missing, the daemon's refusal would still reach the caller as
    InvalidArgument, on that call alone: the connection and its other calls go on."""
    from logbook_client import _protocol

    monkeypatch.setattr(_protocol, "check_text", lambda field, value: value)
    with logbook_client.Client(daemon.socket_path) as client:
        with pytest.raises(logbook_client.InvalidArgument) as raised:
            client.append(f"{name}-1", [EventData("T\0tail")])
        assert raised.value.from_server
        assert "NUL" in str(raised.value)
        client.append(f"{name}-2", [ev()])  # the same connection still serves
    monkeypatch.undo()
    with logbook_client.Client(daemon.socket_path) as client:
        assert [event.stream for event in client.read(category=name)] == [f"{name}-2"]


# --- what the server refuses ---------------------------------------------------------------


def test_empty_type_is_invalid_argument(client, name):
    with pytest.raises(logbook_client.InvalidArgument) as raised:
        client.append(f"{name}-1", [EventData("")])
    assert raised.value.from_server
    assert isinstance(raised.value.details, logbook_client.BadFieldDetail)
    assert list(client.read(f"{name}-1")) == []


def test_empty_stream_name_and_no_events_are_invalid_argument(client, name):
    with pytest.raises(logbook_client.InvalidArgument):
        client.append("", [ev()])
    with pytest.raises(logbook_client.InvalidArgument):
        client.append(f"{name}-1", [])


def test_event_larger_than_the_limit(client, name):
    limit = client.server_info.limits.event_bytes_max
    with pytest.raises(logbook_client.LogbookError) as raised:
        client.append(f"{name}-1", [EventData("Big", b"x" * (limit + 1))])
    error = raised.value
    assert error.code in (logbook_client.Code.INVALID_ARGUMENT, logbook_client.Code.RESOURCE_EXHAUSTED)
    assert isinstance(error.details, logbook_client.LimitExceededDetail)
    assert error.details.limit == "event_bytes_max" and error.details.max == limit
    assert client.append(f"{name}-1", [ev()]).last_revision == 0


def test_too_many_events_in_one_append(client, name):
    limit = client.server_info.limits.events_per_append_max
    with pytest.raises(logbook_client.LogbookError) as raised:
        client.append(f"{name}-1", [EventData("N") for _ in range(limit + 1)])
    assert raised.value.code in (logbook_client.Code.INVALID_ARGUMENT, logbook_client.Code.RESOURCE_EXHAUSTED)
    assert isinstance(raised.value.details, logbook_client.LimitExceededDetail)
    assert list(client.read(f"{name}-1")) == []


def test_stream_name_longer_than_the_limit(client, name):
    limit = client.server_info.limits.stream_name_bytes_max
    with pytest.raises(logbook_client.LogbookError) as raised:
        client.append(name + "-" + "é" * limit, [ev()])
    assert raised.value.code in (logbook_client.Code.INVALID_ARGUMENT, logbook_client.Code.RESOURCE_EXHAUSTED)


def test_frame_larger_than_the_hello_limit_is_refused_locally(client, name):
    """The request is not sent: the server would answer it with a connection-level Status
    and close the connection that other calls share."""
    limit = client.server_info.limits.frame_bytes_max
    per_event = client.server_info.limits.event_bytes_max // 2
    events = [EventData("Big", b"x" * per_event) for _ in range(limit // per_event + 1)]
    with pytest.raises(logbook_client.ResourceExhausted) as raised:
        client.append(f"{name}-1", events)
    error = raised.value
    assert not error.from_server
    assert error.details.limit == "frame_bytes_max" and error.details.max == limit
    assert error.details.value > limit
    assert client.append(f"{name}-1", [ev()]).last_revision == 0  # the connection is intact


def test_oversized_frame_on_the_wire_ends_only_that_connection(daemon, client, name):
    limit = client.server_info.limits.frame_bytes_max
    raw = RawConnection(daemon.socket_path)
    raw.send_bytes(struct.pack(">I", limit + 1) + b"\x08")
    status = raw.receive()
    assert status is not None and status.call_id == 0
    assert status.status.code in (logbook_client.Code.RESOURCE_EXHAUSTED, logbook_client.Code.INVALID_ARGUMENT)
    assert raw.receive() is None  # closed
    raw.close()
    assert client.append(f"{name}-1", [ev()]).last_revision == 0


def test_garbage_frame_ends_only_that_connection(daemon, client, name):
    raw = RawConnection(daemon.socket_path)
    raw.send_bytes(struct.pack(">I", 4) + b"\xff\xff\xff\xff")
    status = raw.receive()
    assert status is not None and status.call_id == 0
    assert status.status.code == logbook_client.Code.INVALID_ARGUMENT
    assert raw.receive() is None
    assert client.append(f"{name}-1", [ev()]).last_revision == 0


def test_cancel_for_a_finished_or_unknown_call_is_harmless(daemon, name):
    raw = RawConnection(daemon.socket_path)
    cancel = frame_pb2.Frame(call_id=99)
    cancel.cancel.SetInParent()
    raw.send(cancel)
    frame = frame_pb2.Frame(call_id=1)
    frame.read_request.selector.stream = f"{name}-none"
    raw.send(frame)
    batches, status = raw.until_status(1)
    assert status.status.code == logbook_client.Code.OK
    cancel.call_id = 1  # the read has finished: a late Cancel
    raw.send(cancel)
    frame.call_id = 2
    raw.send(frame)
    _, status = raw.until_status(2)
    assert status.status.code == logbook_client.Code.OK
    raw.close()


def test_wrong_python_types_are_type_errors(client, name):
    with pytest.raises(TypeError):
        client.append(f"{name}-1", [EventData("T", "not bytes")])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.append(f"{name}-1", ev())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.append(f"{name}-1", [ev()], expected="any")  # type: ignore[arg-type]
    with pytest.raises(logbook_client.InvalidArgument):
        client.append(f"{name}-1", [ev()], expected=-1)
    with pytest.raises(TypeError):
        client.read(f"{name}-1", from_="start")  # type: ignore[arg-type]
    assert list(client.read(f"{name}-1")) == []


# --- the connection-level Status, from a scripted server -----------------------------------


def test_status_on_call_zero_fails_open_and_later_calls(tmp_path):
    def answer(raw: RawConnection) -> None:
        request = raw.receive()
        assert request.WhichOneof("body") == "append_request"
        status = frame_pb2.Frame(call_id=0)
        status.status.code = logbook_client.Code.RESOURCE_EXHAUSTED
        status.status.message = "too many open calls"
        status.status.limit_exceeded.limit = "open_calls_per_connection_max"
        status.status.limit_exceeded.value = 257
        status.status.limit_exceeded.max = 256
        raw.send(status)

    path = str(tmp_path / "fake.sock")
    thread = scripted_server(path, answer)
    client = logbook_client.Client(path, reconnect_wait=0.2)
    with pytest.raises(logbook_client.ResourceExhausted) as raised:
        client.append("s", [ev()])
    assert raised.value.from_server and not raised.value.safe_to_retry
    assert raised.value.details == logbook_client.LimitExceededDetail("open_calls_per_connection_max", 257, 256)
    with pytest.raises(logbook_client.Unavailable, match="could not be reached") as raised:
        client.append("s", [ev()])  # the scripted server takes no second connection
    assert raised.value.safe_to_retry
    thread.join(5)
    client.close()


def test_a_connection_that_drops_mid_call_is_unavailable(tmp_path):
    def answer(raw: RawConnection) -> None:
        raw.receive()

    path = str(tmp_path / "fake.sock")
    thread = scripted_server(path, answer)
    client = logbook_client.Client(path)
    with pytest.raises(logbook_client.Unavailable):
        list(client.read(ALL))
    thread.join(5)


def test_a_server_frame_past_the_limit_is_unavailable(tmp_path):
    def answer(raw: RawConnection) -> None:
        raw.receive()
        raw.send_bytes(struct.pack(">I", 0xFFFF_FFFF))

    path = str(tmp_path / "fake.sock")
    thread = scripted_server(path, answer)
    client = logbook_client.Client(path, retry_appends=False)  # else the append waits for a new connection
    with pytest.raises(logbook_client.Unavailable) as raised:
        client.append("s", [ev()])
    assert isinstance(raised.value.details, logbook_client.LimitExceededDetail)
    thread.join(5)


def test_first_reply_that_is_not_hello_reply(tmp_path):
    path = str(tmp_path / "fake.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        raw = RawConnection.__new__(RawConnection)
        raw.sock = conn
        raw.receive()
        status = frame_pb2.Frame(call_id=0)
        status.status.code = logbook_client.Code.FAILED_PRECONDITION
        status.status.message = "unsupported protocol version"
        raw.send(status)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with pytest.raises(logbook_client.FailedPrecondition) as raised:
        logbook_client.Client(path)
    assert "protocol version" in raised.value.message
    thread.join(5)
    listener.close()


def test_refused_requests_do_not_use_up_call_slots(daemon, name):
    with logbook_client.Client(daemon.socket_path) as client:
        limit = client.server_info.limits.open_calls_per_connection_max
        client._connection.outgoing_frame_bytes_max = 200  # a small frame limit, so that refusals are cheap
        for _ in range(limit + 10):
            with pytest.raises(logbook_client.ResourceExhausted):
                client.append(f"{name}-1", [EventData("Big", b"x" * 300)])
        assert client._connection.calls == []
        assert client.append(f"{name}-1", [ev()]).last_revision == 0


def test_refused_requests_do_not_use_up_call_slots_async(daemon, name):
    import asyncio

    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as client:
            limit = client.server_info.limits.open_calls_per_connection_max
            client._connection.outgoing_frame_bytes_max = 200
            for _ in range(limit + 10):
                with pytest.raises(logbook_client.ResourceExhausted):
                    await client.append(f"{name}-1", [EventData("Big", b"x" * 300)])
            assert (await client.append(f"{name}-1", [ev()])).last_revision == 0

    asyncio.run(main())
