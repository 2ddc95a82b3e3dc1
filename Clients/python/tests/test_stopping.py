"""What ends a step of an iteration ends its call, in both clients: an interrupt (Ctrl-C, a
cancelled task) or a protocol error sends Cancel, so that the server stops the call and
the connection holds nothing more for it; a failed connection has nothing to cancel.
Each test plays the server from a script, so that it sees exactly what the client sends."""

from __future__ import annotations

import asyncio
import linecache
import signal
import sys
import threading
import time

import pytest

import logbook_client
import logbook_client.aio
from logbook_client import ALL
from logbook_client._pb.logbook.v1 import frame_pb2

from rawwire import RawConnection, scripted_server


def _expect_cancel(received: list[tuple[str, int]], before_cancel=lambda raw, call_id: None):
    """A script: takes one request, runs `before_cancel`, then records the next frame."""

    def answer(raw: RawConnection) -> None:
        request = raw.receive()
        received.append((request.WhichOneof("body"), request.call_id))
        before_cancel(raw, request.call_id)
        cancel = raw.receive()
        received.append((cancel.WhichOneof("body"), cancel.call_id))
        status = frame_pb2.Frame(call_id=request.call_id)
        status.status.code = logbook_client.Code.CANCELLED
        raw.send(status)

    return answer


def _unexpected_frame(raw: RawConnection, call_id: int) -> None:
    frame = frame_pb2.Frame(call_id=call_id)
    frame.query_reply.SetInParent()  # no frame a read expects
    raw.send(frame)


@pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is not signal.default_int_handler, reason="SIGINT is handled elsewhere"
)
def test_ctrl_c_while_a_read_waits_cancels_it(tmp_path):
    received: list[tuple[str, int]] = []
    main = threading.main_thread().ident
    assert main is not None

    def interrupt(raw: RawConnection, call_id: int) -> None:
        # Ctrl-C once the client waits for the server (not while it sends: an interrupted
        # send ends the connection, as what reached the server is unknown).
        while (frame := sys._current_frames().get(main)) is None or frame.f_code.co_name != "_read":
            time.sleep(0.001)
        signal.pthread_kill(main, signal.SIGINT)

    path = str(tmp_path / "fake.sock")
    thread = scripted_server(path, _expect_cancel(received, interrupt))
    with logbook_client.Client(path) as client:
        events = client.read(ALL)
        with pytest.raises(KeyboardInterrupt):
            next(events)
        thread.join(10)
        with pytest.raises(StopIteration):
            next(events)
    assert received == [("read_request", 1), ("cancel", 1)]


@pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is not signal.default_int_handler, reason="SIGINT is handled elsewhere"
)
def test_ctrl_c_while_a_request_is_sent_ends_the_connection(tmp_path):
    """How much of an interrupted send reached the server cannot be known, so the
    socket is dropped instead of sending a frame cut short or twice (and the client
    connects again: here no server answers)."""
    main = threading.main_thread().ident
    assert main is not None

    def answer(raw: RawConnection) -> None:
        # Reads nothing, so that the client blocks sending a large request; then Ctrl-C.
        while (frame := sys._current_frames().get(main)) is None or frame.f_code.co_name != "_flush" or (
            "sendall" not in linecache.getline(frame.f_code.co_filename, frame.f_lineno)
        ):
            time.sleep(0.001)
        signal.pthread_kill(main, signal.SIGINT)
        while raw.receive() is not None:
            pass

    path = str(tmp_path / "fake.sock")
    thread = scripted_server(path, answer)
    with logbook_client.Client(path, reconnect_wait=0.2) as client:
        with pytest.raises(KeyboardInterrupt):
            client.append("s", [logbook_client.EventData("Big", b"x" * 900_000)])
        with pytest.raises(logbook_client.Unavailable, match="interrupted"):
            client.append("s", [logbook_client.EventData("Small")])
    thread.join(10)


def test_a_cancelled_task_cancels_its_read(tmp_path):
    received: list[tuple[str, int]] = []
    request_came = threading.Event()
    path = str(tmp_path / "fake.sock")
    thread = scripted_server(path, _expect_cancel(received, lambda raw, call_id: request_came.set()))

    async def main() -> None:
        async with logbook_client.aio.Client(path) as client:
            events = client.read(ALL)
            task = asyncio.create_task(events.__anext__())
            await asyncio.get_running_loop().run_in_executor(None, request_came.wait, 10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.get_running_loop().run_in_executor(None, thread.join, 10)
            with pytest.raises(StopAsyncIteration):
                await events.__anext__()

    asyncio.run(main())
    assert received == [("read_request", 1), ("cancel", 1)]


def test_a_protocol_error_cancels_the_read(tmp_path):
    received: list[tuple[str, int]] = []
    path = str(tmp_path / "fake.sock")
    thread = scripted_server(path, _expect_cancel(received, _unexpected_frame))
    with logbook_client.Client(path) as client:
        events = client.read(ALL)
        with pytest.raises(logbook_client.Unavailable, match="protocol error"):
            next(events)
        thread.join(10)
        assert list(events) == []
    assert received == [("read_request", 1), ("cancel", 1)]


def test_a_protocol_error_cancels_the_read_async(tmp_path):
    received: list[tuple[str, int]] = []
    path = str(tmp_path / "fake.sock")
    thread = scripted_server(path, _expect_cancel(received, _unexpected_frame))

    async def main() -> None:
        async with logbook_client.aio.Client(path) as client:
            events = client.read(ALL)
            with pytest.raises(logbook_client.Unavailable, match="protocol error"):
                await events.__anext__()
            await asyncio.get_running_loop().run_in_executor(None, thread.join, 10)
            assert await events.collect() == []

    asyncio.run(main())
    assert received == [("read_request", 1), ("cancel", 1)]


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_failed_connection_ends_the_iteration_without_a_cancel(tmp_path, asynchronous):
    def answer(raw: RawConnection) -> None:
        raw.receive()  # then the connection closes

    path = str(tmp_path / "fake.sock")
    thread = scripted_server(path, answer)
    if asynchronous:

        async def main() -> None:
            async with logbook_client.aio.Client(path) as client:
                events = client.read(ALL)
                with pytest.raises(logbook_client.Unavailable):
                    await events.__anext__()
                assert await events.collect() == []
                assert client._connection.calls == []

        asyncio.run(main())
    else:
        with logbook_client.Client(path) as client:
            events = client.read(ALL)
            with pytest.raises(logbook_client.Unavailable):
                next(events)
            assert list(events) == []
            assert client._connection.calls == []
    thread.join(10)
