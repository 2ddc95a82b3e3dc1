"""Both clients across daemon restarts (SIGTERM and SIGKILL), against the real logbookd:
calls after the restart succeed, calls in flight fail saying whether a retry is safe,
appends in flight are sent again and never written twice (events counted by id), and
subscriptions resume without a gap, a duplicate or a second CaughtUp."""

from __future__ import annotations

import asyncio
import signal
import socket
import struct
import threading
import time
import uuid
from collections import Counter

import pytest

import logbook_client
import logbook_client.aio
from logbook_client import ALL, NO_STREAM, START, CaughtUp, Delivery, EventData, GroupSettings, RecordedEvent, Selector
from logbook_client._connection import CallState

from conftest import Daemon

SIGNALS = [pytest.param(signal.SIGTERM, id="sigterm"), pytest.param(signal.SIGKILL, id="sigkill")]


def ev(n: int = 0) -> EventData:
    return EventData.json("Happened", {"n": n})


def wait_for(condition, what: str, seconds: float = 30) -> None:
    """Polls `condition` (a state the test cannot be told about) until it holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def open_calls(client) -> int:
    return sum(1 for call in client._connection.calls if call.state is CallState.OPEN)


@pytest.fixture
def restartable(binaries):
    daemon = Daemon(binaries["logbookd"])
    daemon.start()
    yield daemon
    daemon.cleanup()


# --- unary calls after a restart -------------------------------------------------------------


@pytest.mark.parametrize("sig", SIGNALS)
def test_sync_calls_after_a_restart_succeed(restartable, name, sig):
    with logbook_client.Client(restartable.socket_path) as client:
        first = client.append(f"{name}-1", [ev(1)])
        restartable.restart(sig)
        second = client.append(f"{name}-1", [ev(2)])
        assert (first.last_revision, second.last_revision) == (0, 1)
        assert [e.json()["n"] for e in client.read(f"{name}-1")] == [1, 2]
        client.create_group(GroupSettings(f"{name}-g", Selector.category(name)))
        assert client.group_info(f"{name}-g").settings.name == f"{name}-g"
        assert client.query("$streams", key=f"{name}-1").rows
        assert client.reconnections == 1 and not client.closed


@pytest.mark.parametrize("sig", SIGNALS)
def test_async_calls_after_a_restart_succeed(restartable, name, sig):
    async def main():
        async with logbook_client.aio.Client(restartable.socket_path) as client:
            await client.append(f"{name}-1", [ev(1)])
            await asyncio.to_thread(restartable.restart, sig)
            second = await client.append(f"{name}-1", [ev(2)])
            assert second.last_revision == 1
            assert [e.json()["n"] for e in await client.read(f"{name}-1").collect()] == [1, 2]
            await client.create_group(GroupSettings(f"{name}-g", Selector.category(name)))
            assert (await client.group_info(f"{name}-g")).settings.name == f"{name}-g"
            assert client.reconnections == 1

    asyncio.run(main())


# --- calls in flight at a SIGKILL ------------------------------------------------------------


def test_sync_calls_in_flight_at_a_sigkill(restartable, name):
    """The daemon is stopped (SIGSTOP) so that every call is surely in flight, then killed."""
    with logbook_client.Client(restartable.socket_path) as client:
        client.append(f"{name}-1", [ev(0)])
        outcomes: dict[str, object] = {}
        appended = ev(1)

        def run(label, call):
            try:
                outcomes[label] = call()
            except logbook_client.LogbookError as error:
                outcomes[label] = error

        calls = {
            "append": lambda: client.append(f"{name}-1", [appended]),
            "read": lambda: list(client.read(f"{name}-1")),
            "query": lambda: client.query("$streams", key=f"{name}-1"),
            "create_group": lambda: client.create_group(GroupSettings(f"{name}-g")),
        }
        restartable.pause()
        threads = [threading.Thread(target=run, args=item) for item in calls.items()]
        for thread in threads:
            thread.start()
        wait_for(lambda: open_calls(client) == len(calls), "every call to be sent")
        restartable.restart(signal.SIGKILL)
        for thread in threads:
            thread.join(60)
        assert isinstance(outcomes["append"], logbook_client.AppendResult), outcomes["append"]
        assert outcomes["append"].last_revision == 1
        safe = {label: (type(o).__name__, o.safe_to_retry) for label, o in outcomes.items() if label != "append"}
        assert safe == {
            "read": ("Unavailable", True),
            "query": ("Unavailable", True),
            "create_group": ("Unavailable", False),
        }
        ids = [event.id for event in client.read(f"{name}-1")]
        assert ids.count(appended.id) == 1 and len(ids) == 2
        assert client.calls_resent == 1


def test_async_calls_in_flight_at_a_sigkill(restartable, name):
    async def main():
        async with logbook_client.aio.Client(restartable.socket_path) as client:
            await client.append(f"{name}-1", [ev(0)])
            appended = ev(1)
            restartable.pause()
            tasks = {
                "append": asyncio.create_task(client.append(f"{name}-1", [appended])),
                "read": asyncio.create_task(client.read(f"{name}-1").collect()),
                "create_group": asyncio.create_task(client.create_group(GroupSettings(f"{name}-g"))),
            }
            deadline = time.monotonic() + 30
            while open_calls(client) < len(tasks):
                # Bounded, and saying what it saw: an unbounded wait once hung the suite.
                if time.monotonic() > deadline:
                    states = [call.state.name for call in client._connection.calls]
                    finished = {key: repr(task.exception() or task.result()) for key, task in tasks.items() if task.done()}
                    raise AssertionError(f"timed out waiting for 3 open calls: {states}, finished: {finished}")
                await asyncio.sleep(0.005)
            await asyncio.to_thread(restartable.restart, signal.SIGKILL)
            outcomes = dict(zip(tasks, await asyncio.gather(*tasks.values(), return_exceptions=True)))
            assert outcomes["append"].last_revision == 1
            assert isinstance(outcomes["read"], logbook_client.Unavailable) and outcomes["read"].safe_to_retry
            assert isinstance(outcomes["create_group"], logbook_client.Unavailable)
            assert not outcomes["create_group"].safe_to_retry
            ids = [event.id for event in await client.read(f"{name}-1").collect()]
            assert ids.count(appended.id) == 1 and len(ids) == 2
            assert client.calls_resent == 1

    asyncio.run(main())


def test_appends_are_not_sent_again_when_the_client_says_so(restartable, name):
    with logbook_client.Client(restartable.socket_path, retry_appends=False) as client:
        restartable.pause()
        outcome: list[object] = []
        thread = threading.Thread(target=lambda: outcome.append(_try(client.append, f"{name}-1", [ev()])))
        thread.start()
        wait_for(lambda: open_calls(client) == 1, "the append to be sent")
        restartable.restart(signal.SIGKILL)
        thread.join(60)
        assert isinstance(outcome[0], logbook_client.Unavailable) and outcome[0].safe_to_retry
        assert client.calls_resent == 0


def _try(call, *args):
    try:
        return call(*args)
    except logbook_client.LogbookError as error:
        return error


# --- an append that committed, whose reply was lost --------------------------------------------


class ReplyLosingProxy:
    """A Unix-socket proxy in front of the daemon that, once, drops the connection right
    after the daemon answered an append: the append committed, and the client never heard."""

    def __init__(self, daemon_path: str, path: str) -> None:
        self.daemon_path = daemon_path
        self.path = path
        self.dropped = threading.Event()
        self.connections = 0
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.daemon_path)
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_daemon: bool) -> None:
        from logbook_client._pb.logbook.v1 import frame_pb2

        try:
            while True:
                header = _exact(source, 4)
                payload = _exact(source, struct.unpack(">I", header)[0])
                if from_daemon and not self.dropped.is_set():
                    if frame_pb2.Frame.FromString(payload).WhichOneof("body") == "append_reply":
                        self.dropped.set()
                        raise ConnectionResetError("the proxy drops the reply")
                target.sendall(header + payload)
        except (OSError, ValueError):
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionResetError("closed")
        data += chunk
    return data


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_an_append_whose_reply_was_lost_answers_with_its_original_positions(
    restartable, name, tmp_path, asynchronous
):
    proxy = ReplyLosingProxy(restartable.socket_path, str(tmp_path / "proxy.sock"))
    events = [ev(n) for n in range(3)]
    try:
        if asynchronous:

            async def main():
                async with logbook_client.aio.Client(proxy.path) as client:
                    return await client.append(f"{name}-1", events, expected=NO_STREAM), client.calls_resent

            result, resent = asyncio.run(main())
        else:
            with logbook_client.Client(proxy.path) as client:
                result, resent = client.append(f"{name}-1", events, expected=NO_STREAM), client.calls_resent
    finally:
        proxy.close()
    assert proxy.dropped.is_set() and proxy.connections == 2 and resent == 1
    with logbook_client.Client(restartable.socket_path) as client:
        stored = list(client.read(f"{name}-1"))
    assert [e.id for e in stored] == [e.id for e in events]  # written once
    assert result.positions == tuple(e.position for e in stored) and result.first_revision == 0


# --- appends under load while the daemon is killed -----------------------------------------------


def test_concurrent_appends_across_two_sigkills_are_each_written_once(restartable, name):
    appended: dict[uuid.UUID, int] = {}
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    with logbook_client.Client(restartable.socket_path) as client:

        def appender(index: int) -> None:
            n = 0
            try:
                while not stop.is_set():
                    event = ev(n)
                    result = client.append(f"{name}-{index}", [event])
                    with lock:
                        appended[event.id] = result.positions[0]
                    n += 1
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=appender, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for _ in range(2):
            count = len(appended)
            wait_for(lambda: len(appended) >= count + 50, "appends to go on")
            restartable.restart(signal.SIGKILL)
        count = len(appended)
        wait_for(lambda: len(appended) >= count + 50, "appends after the last restart")
        stop.set()
        for thread in threads:
            thread.join(60)
        assert errors == []
        stored = list(client.read(category=name))
        resent = client.calls_resent
    by_id = Counter(event.id for event in stored)
    assert [i for i, n in by_id.items() if n > 1] == []
    assert set(by_id) == set(appended)
    assert {event.id: event.position for event in stored} == appended
    print(f"\n{len(appended)} appends, {resent} sent again after a SIGKILL")


# --- catch-up subscriptions resume -------------------------------------------------------------


def consume_sync(subscription, count: int, seen: list) -> None:
    events = 0
    for item in subscription:
        seen.append(item)
        if isinstance(item, RecordedEvent):
            events += 1
            if events == count:
                return


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_sync_catch_up_subscription_resumes_without_gap_duplicate_or_second_caught_up(restartable, name, sig):
    with logbook_client.Client(restartable.socket_path) as client:
        ids = [client.append(f"{name}-{n % 3}", [event]) and event.id for n, event in enumerate(ev(n) for n in range(50))]
        seen: list = []
        with client.subscribe(category=name, initial_credit=8) as subscription:
            consume_sync(subscription, 25, seen)  # mid-history, with events buffered
            restartable.restart(sig)
            consume_sync(subscription, 25, seen)  # the rest of history, then CaughtUp
            assert isinstance(next(subscription), CaughtUp)
            restartable.restart(sig)  # while live
            for n in range(50, 80):
                event = ev(n)
                client.append(f"{name}-{n % 3}", [event])
                ids.append(event.id)
            consume_sync(subscription, 30, seen)
            assert subscription.call_count == 3
    events = [item for item in seen if isinstance(item, RecordedEvent)]
    assert [e.id for e in events] == ids
    assert [type(item).__name__ for item in seen].count("CaughtUp") == 0  # the one CaughtUp was taken above


def test_an_async_catch_up_subscription_resumes_across_a_sigkill(restartable, name):
    async def main():
        async with logbook_client.aio.Client(restartable.socket_path) as client:
            ids = []
            for n in range(40):
                event = ev(n)
                await client.append(f"{name}-{n % 3}", [event])
                ids.append(event.id)
            seen = []
            async with client.subscribe(category=name, initial_credit=8) as subscription:
                async for item in subscription:
                    seen.append(item)
                    if len(seen) == 20:
                        await asyncio.to_thread(restartable.restart, signal.SIGKILL)
                    if isinstance(item, CaughtUp):
                        break
                for n in range(40, 60):
                    event = ev(n)
                    await client.append(f"{name}-{n % 3}", [event])
                    ids.append(event.id)
                await asyncio.to_thread(restartable.restart, signal.SIGTERM)
                async for item in subscription:
                    seen.append(item)
                    if isinstance(item, RecordedEvent) and item.id == ids[-1]:
                        break
            assert [e.id for e in seen if isinstance(e, RecordedEvent)] == ids
            assert [type(item).__name__ for item in seen].count("CaughtUp") == 1

    asyncio.run(main())


# --- group subscriptions rejoin ---------------------------------------------------------------


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_sync_group_subscription_rejoins_and_every_event_is_acked(restartable, name, sig):
    group = f"{name}-g"
    with logbook_client.Client(restartable.socket_path) as client:
        client.create_group(GroupSettings(group, Selector.category(name), from_=START))
        ids = set()
        for n in range(60):
            event = ev(n)
            client.append(f"{name}-{n % 4}", [event])
            ids.add(event.id)
        handled: set[uuid.UUID] = set()
        with client.subscribe_group(group, initial_credit=10) as deliveries:
            for item in deliveries:
                if not isinstance(item, Delivery):
                    continue
                handled.add(item.event.id)
                deliveries.ack([item.delivery_id])
                if len(handled) == 20 and deliveries.call_count == 1:
                    restartable.restart(sig)
                    for n in range(60, 100):
                        event = ev(n)
                        client.append(f"{name}-{n % 4}", [event])
                        ids.add(event.id)
                if handled == ids and len(ids) == 100:
                    break
            assert deliveries.call_count == 2
        wait_for(lambda: client.group_info(group).checkpoint == client.read(ALL, backwards=True, limit=1).__next__().position,
                 "the checkpoint to reach the head")  # fmt: skip
        info = client.group_info(group)
        assert info.parked == 0 and handled == ids


def test_an_async_group_subscription_rejoins_after_a_sigkill(restartable, name):
    async def main():
        group = f"{name}-g"
        async with logbook_client.aio.Client(restartable.socket_path) as client:
            await client.create_group(GroupSettings(group, Selector.category(name), from_=START))
            ids = set()
            for n in range(40):
                event = ev(n)
                await client.append(f"{name}-{n % 4}", [event])
                ids.add(event.id)
            handled = set()
            async with client.subscribe_group(group, initial_credit=10) as deliveries:
                async for item in deliveries:
                    if not isinstance(item, Delivery):
                        continue
                    handled.add(item.event.id)
                    await deliveries.ack([item.delivery_id])
                    if len(handled) == 15 and deliveries.call_count == 1:
                        await asyncio.to_thread(restartable.restart, signal.SIGKILL)
                    if handled == ids:
                        break
            assert deliveries.call_count == 2
            assert (await client.group_info(group)).parked == 0

    asyncio.run(main())
