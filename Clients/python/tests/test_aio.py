"""The asyncio client against a real logbookd: the same calls, many at once on one
connection."""

from __future__ import annotations

import asyncio
import gc

import pytest

import logbook_client
import logbook_client.aio
from logbook_client import ALL, NO_STREAM, STREAM_EXISTS, EventData, StreamAppend


def ev(type: str = "Happened", n: int = 0, **kw) -> EventData:
    return EventData.json(type, {"n": n}, **kw)


def run(coro):
    return asyncio.run(coro)


def test_append_read_round_trip(daemon, name):
    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as client:
            assert client.server_info.protocol_version == 1
            event = EventData.json(
                "Placed", {"who": "Ålesund ✓"}, metadata={"k": "v"}, correlation_id="c", causation_id="d"
            )
            result = await client.append(f"{name}-1", [event, EventData("Bin", b"\x00\x01")], expected=NO_STREAM)
            assert (result.first_revision, result.last_revision) == (0, 1)
            events = [e async for e in client.read(f"{name}-1")]
            assert [e.id for e in events] == [event.id, events[1].id]
            assert events[0].json() == {"who": "Ålesund ✓"} and events[0].metadata == {"k": "v"}
            assert (events[0].correlation_id, events[0].causation_id) == ("c", "d")
            assert events[1].data == b"\x00\x01"
            assert [e.revision async for e in client.read(f"{name}-1", backwards=True, limit=1)] == [1]
            assert await client.read(category=name).collect() == events

    run(main())


def test_connects_on_first_call_and_module_connect(daemon, name):
    async def main():
        client = logbook_client.aio.Client(daemon.socket_path)
        assert (await client.append(f"{name}-1", [ev()])).last_revision == 0
        await client.close()
        with pytest.raises(logbook_client.Unavailable):
            await client.append(f"{name}-1", [ev()])
        client = await logbook_client.aio.connect(daemon.socket_path)
        assert len(await client.read(f"{name}-1").collect()) == 1
        await client.close()

    run(main())


def test_unreachable_daemon_is_unavailable(tmp_path):
    async def main():
        with pytest.raises(logbook_client.Unavailable):
            await logbook_client.aio.connect(str(tmp_path / "none.sock"))

    run(main())


def test_conflicts_and_idempotency(daemon, name):
    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as client:
            stream = f"{name}-1"
            events = [ev(n=1), ev(n=2)]
            first = await client.append(stream, events, expected=NO_STREAM)
            again = await client.append(stream, events, expected=NO_STREAM)
            assert again.positions == first.positions
            with pytest.raises(logbook_client.WrongExpectedRevision) as raised:
                await client.append(stream, [ev()], expected=0)
            assert (raised.value.stream, raised.value.expected, raised.value.actual) == (stream, 0, 1)
            with pytest.raises(logbook_client.WrongExpectedRevision) as raised:
                await client.append(f"{name}-2", [ev()], expected=STREAM_EXISTS)
            assert raised.value.actual is None
            with pytest.raises(logbook_client.AlreadyExists):
                await client.append(f"{name}-3", [events[0]])
            with pytest.raises(logbook_client.WrongExpectedRevision):
                await client.append_many([StreamAppend(f"{name}-4", [ev()]), (stream, [ev()], NO_STREAM)])
            assert await client.read(f"{name}-4").collect() == []
            results = await client.append_many([(f"{name}-4", [ev()]), (stream, [ev()], 1)])
            assert [r.last_revision for r in results] == [0, 2]

    run(main())


def test_many_concurrent_calls_on_one_connection(daemon, name):
    """Hundreds of tasks share one connection; replies are matched by call id."""

    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as client:
            streams = [f"{name}-{i}" for i in range(50)]

            async def writer(stream: str) -> list[int]:
                revisions = []
                for n in range(10):
                    expected = NO_STREAM if n == 0 else n - 1
                    result = await client.append(stream, [ev(n=n)], expected=expected)
                    revisions.append(result.last_revision)
                return revisions

            async def reader(stream: str) -> int:
                count = 0
                for _ in range(5):
                    count = len([e async for e in client.read(stream)])
                    await asyncio.sleep(0)
                return count

            results = await asyncio.gather(*(writer(s) for s in streams), *(reader(s) for s in streams))
            for revisions in results[: len(streams)]:
                assert revisions == list(range(10))
            for stream in streams:
                assert [e.json()["n"] for e in await client.read(stream).collect()] == list(range(10))
            assert client._connection.calls == []

    run(main())


def test_racing_writers_one_wins(daemon, name):
    async def main():
        clients = [await logbook_client.aio.connect(daemon.socket_path) for _ in range(3)]
        try:
            stream = f"{name}-race"
            attempts = [c.append(stream, [ev(n=i)], expected=NO_STREAM) for c in clients for i in range(4)]
            outcomes = await asyncio.gather(*attempts, return_exceptions=True)
            wins = [o for o in outcomes if isinstance(o, logbook_client.AppendResult)]
            losses = [o for o in outcomes if isinstance(o, logbook_client.WrongExpectedRevision)]
            assert len(wins) == 1 and len(losses) == len(attempts) - 1
            assert all(loss.actual == 0 for loss in losses)
        finally:
            for c in clients:
                await c.close()

    run(main())


def test_breaking_out_of_a_read_cancels_it(daemon, name):
    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as client:
            stream = f"{name}-long"
            batch = client.server_info.limits.read_batch_events_max
            await client.append(stream, [EventData("N", b"x" * 64) for _ in range(batch * 4)])
            for _ in range(10):
                async for event in client.read(stream):
                    if event.revision == 2:
                        break
            gc.collect()
            async with client.read(stream) as events:
                async for event in events:
                    break
            reader = client.read(stream)
            await reader.__anext__()
            await reader.aclose()
            with pytest.raises(StopAsyncIteration):
                await reader.__anext__()
            await asyncio.sleep(0.2)
            assert client._connection.calls == []  # every cancelled read got its CANCELLED status
            assert (await client.append(stream, [ev()])).last_revision == batch * 4

    run(main())


def test_cancelling_a_task_mid_read_leaves_the_connection_usable(daemon, name):
    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as client:
            stream = f"{name}-1"
            batch = client.server_info.limits.read_batch_events_max
            await client.append(stream, [EventData("N") for _ in range(batch * 4)])

            async def slow_reader():
                async for _ in client.read(stream):
                    await asyncio.sleep(0.01)

            task = asyncio.create_task(slow_reader())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert len(await client.read(stream).collect()) == batch * 4
            await asyncio.sleep(0.2)
            assert client._connection.calls == []

    run(main())


def test_views_and_system_views(daemon, name):
    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as client:
            stats = (await client.query("$stats")).rows
            assert [row.key for row in stats] == ["stats"] and stats[0].value()["connections"] >= 1
            with pytest.raises(logbook_client.NotFound):
                await client.define_view(f"{name}-v", f"{name}-no-such-group")
            assert all(view.name != f"{name}-v" for view in await client.list_views())
            assert (await client.read(ALL, limit=1).collect()) is not None

    run(main())


def test_stream_lifecycle(daemon, name):
    """Soft delete, recreation, tombstone and bounds, as in test_sync, through asyncio."""

    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as client:
            stream, tomb = f"{name}-1", f"{name}-2"
            await client.append(stream, [ev(n=i) for i in range(3)], expected=NO_STREAM)
            info = await client.delete_stream(stream, expected=2)
            assert (info.stream, info.last_revision, info.deleted, info.tombstoned) == (stream, 2, True, False)
            with pytest.raises(logbook_client.NotFound) as raised:
                await client.read(stream).collect()
            assert isinstance(raised.value, logbook_client.StreamDeleted)
            assert (raised.value.stream, raised.value.hard) == (stream, False)
            assert await client.read(category=name).collect() == []
            with pytest.raises(logbook_client.WrongExpectedRevision):
                await client.append(stream, [ev()], expected=2)
            assert (await client.append(stream, [ev(n=3)], expected=NO_STREAM)).first_revision == 3
            await client.append(stream, [ev(n=4)])
            info = await client.set_stream_metadata(stream, max_count=1)
            assert (info.max_count, info.last_revision, info.deleted) == (1, 4, False)
            assert [e.json()["n"] for e in await client.read(stream).collect()] == [4]
            assert await client.get_stream_metadata(stream) == info == await client.stream_info(stream)
            with pytest.raises(logbook_client.InvalidArgument) as invalid:
                await client.set_stream_metadata(stream, max_age=0)
            assert not invalid.value.from_server

            await client.append(tomb, [ev()])
            assert (await client.delete_stream(tomb, hard=True)).tombstoned
            with pytest.raises(logbook_client.FailedPrecondition) as raised:
                await client.append(tomb, [ev()])
            assert isinstance(raised.value, logbook_client.StreamDeleted)
            assert (raised.value.stream, raised.value.hard) == (tomb, True)

    run(main())


def test_bad_input_is_refused_before_sending(daemon, name):
    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as client:
            with pytest.raises(logbook_client.InvalidArgument) as raised:
                await client.append(f"{name}-1", [EventData("A\0B")])
            assert not raised.value.from_server
            limit = client.server_info.limits.frame_bytes_max
            size = client.server_info.limits.event_bytes_max // 2
            with pytest.raises(logbook_client.ResourceExhausted):
                await client.append(f"{name}-1", [EventData("Big", b"x" * size)] * (limit // size + 1))
            with pytest.raises(logbook_client.InvalidArgument) as raised:
                await client.append(f"{name}-1", [EventData("")])
            assert raised.value.from_server
            assert (await client.append(f"{name}-1", [ev()])).last_revision == 0

    run(main())


def test_a_daemon_that_stays_away_fails_calls_after_their_wait(fresh_daemon, name):
    async def main():
        client = await logbook_client.aio.connect(fresh_daemon.socket_path, reconnect_wait=0.3)
        await client.append(f"{name}-1", [ev()])
        fresh_daemon.process.kill()
        fresh_daemon.process.wait()
        for _ in range(2):
            with pytest.raises(logbook_client.Unavailable, match="could not be reached") as raised:
                await client.append(f"{name}-1", [ev()])
            assert raised.value.safe_to_retry
        with pytest.raises(logbook_client.Unavailable, match="could not be reached"):
            await client.read(f"{name}-1", timeout=0.1).collect()
        await client.close()

    run(main())


def test_more_concurrent_calls_than_the_server_allows_open(daemon, name):
    """Past open_calls_per_connection_max the client queues calls instead of letting the
    server refuse them."""

    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as client:
            limit = client.server_info.limits.open_calls_per_connection_max
            count = limit * 3 + 5
            results = await asyncio.gather(
                *(client.append(f"{name}-{i % 20}", [ev(n=i)]) for i in range(count))
            )
            assert len(results) == count
            positions = sorted(p for r in results for p in r.positions)
            assert len(set(positions)) == count
            assert sum([len(await client.read(f"{name}-{i}").collect()) for i in range(20)]) == count

    run(main())


def test_tasks_waiting_for_a_slot_fail_when_the_connection_does(fresh_daemon, name):
    async def main():
        client = await logbook_client.aio.connect(fresh_daemon.socket_path)
        limit = client.server_info.limits.open_calls_per_connection_max
        # Subscriptions stay open: they take every slot.
        subscriptions = [client.subscribe(ALL) for _ in range(limit)]
        for s in subscriptions:
            assert isinstance(await s.__anext__(), logbook_client.CaughtUp)
        waiting = [asyncio.create_task(client.append(f"{name}-1", [ev()])) for _ in range(limit + 10)]
        await asyncio.sleep(0.2)
        assert not any(t.done() for t in waiting)
        await client.close()
        outcomes = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 10)
        assert all(isinstance(o, logbook_client.Unavailable) for o in outcomes)

    run(main())

