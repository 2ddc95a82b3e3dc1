"""ProjectionWorker, sync and asyncio, against a real logbookd: acks on success, nacks with
the exception's text (and so parks a poison event), view writes in the ack, stop(), and
daemon restarts under a running worker."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time

import pytest

import logbook_client
import logbook_client.aio
from logbook_client import EventData, GroupSettings, ProjectionWorker, Selector, ViewWrite

from conftest import Daemon


def wait_for(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def setup_group(client, name: str, **settings) -> str:
    group = f"{name}-g"
    client.create_group(GroupSettings(group, Selector.category(name), **settings))
    return group


def test_a_worker_acks_what_its_handler_took_and_parks_what_keeps_failing(client, name):
    group = setup_group(client, name, max_deliveries=2, retry_backoff_ms=10)
    for n in range(5):
        client.append(f"{name}-{n}", [EventData.json("Placed", {"n": n})])
    seen: list[int] = []

    def handle(event):
        n = event.json()["n"]
        seen.append(n)
        if n == 3:
            raise ValueError(f"order {n} is malformed")

    worker = ProjectionWorker(client, group, handle)
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_for(lambda: client.group_info(group).parked == 1 and client.group_info(group).lag == 0, "the poison event parked")
    worker.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert sorted(set(seen)) == [0, 1, 2, 3, 4] and seen.count(3) == 2
    assert (worker.acked, worker.retried) == (4, 2)
    (parked,) = client.list_parked(group)
    assert parked.event.json() == {"n": 3} and "ValueError: order 3 is malformed" in parked.reason


def test_a_worker_writing_views_applies_its_writes_with_the_acks(client, name):
    group = setup_group(client, name)
    client.define_view(f"{name}_v", group)
    last = None
    for n in range(10):
        last = client.append(f"{name}-{n % 3}", [EventData.json("Placed", {"n": n})]).positions[-1]

    def project(event):
        return [ViewWrite(f"{name}_v", event.stream, merge=json.dumps({str(event.revision): event.json()["n"]}))]

    worker = ProjectionWorker.writing_views(client, group, project)
    thread = threading.Thread(target=worker.run)
    thread.start()
    rows = client.query(f"{name}_v", min_position=last, wait=30).rows
    worker.stop()
    thread.join(10)
    docs = {row.key: row.value() for row in rows}
    assert docs == {f"{name}-{s}": {str(r): n for r, n in enumerate(range(s, 10, 3))} for s in range(3)}


def test_a_worker_on_a_missing_group_raises_not_found(client, name):
    with pytest.raises(logbook_client.NotFound):
        ProjectionWorker(client, f"{name}-none", lambda event: None).run()


def test_an_async_worker_handles_with_coroutines_and_stops(daemon, name):
    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as client:
            group = f"{name}-g"
            await client.create_group(GroupSettings(group, Selector.category(name), max_deliveries=1))
            for n in range(6):
                await client.append(f"{name}-{n}", [EventData.json("Placed", {"n": n})])
            handled = []
            done = asyncio.Event()

            async def handle(event):
                await asyncio.sleep(0)
                if event.json()["n"] == 5:
                    raise RuntimeError("no")
                handled.append(event.json()["n"])
                if len(handled) == 5:
                    done.set()

            worker = logbook_client.aio.ProjectionWorker(client, group, handle)
            task = asyncio.create_task(worker.run())
            await asyncio.wait_for(done.wait(), 30)
            while (await client.group_info(group)).parked != 1:
                await asyncio.sleep(0.01)
            worker.stop()
            await asyncio.wait_for(task, 10)
            assert sorted(handled) == [0, 1, 2, 3, 4] and worker.retried == 1
            (parked,) = await client.list_parked(group)
            assert parked.reason.startswith("RuntimeError: no")

    asyncio.run(main())


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_worker_counts_exactly_across_a_sigterm_and_a_sigkill(binaries, name, asynchronous):
    """Appends go on while the daemon is stopped with SIGTERM, then SIGKILL; the worker's
    view (one document per event, written with the ack) ends with every event exactly once,
    and nothing is parked."""
    daemon = Daemon(binaries["logbookd"])
    daemon.start()
    try:
        with logbook_client.Client(daemon.socket_path) as client:
            group = setup_group(client, name)
            view = f"{name}_seen"
            client.define_view(view, group)

            def project(event):
                count = event.json()["n"]
                return [ViewWrite(view, str(event.id), put=json.dumps({"n": count, "stream": event.stream}))]

            if asynchronous:
                loop = asyncio.new_event_loop()
                aclient = logbook_client.aio.Client(daemon.socket_path)
                worker = logbook_client.aio.ProjectionWorker.writing_views(aclient, group, project)
                thread = threading.Thread(target=lambda: loop.run_until_complete(worker.run()))
            else:
                worker = ProjectionWorker.writing_views(client, group, project)
                thread = threading.Thread(target=worker.run)
            thread.start()
            appended = 0
            for sig in (signal.SIGTERM, signal.SIGKILL):
                for _ in range(40):
                    client.append(f"{name}-{appended % 5}", [EventData.json("Placed", {"n": appended})])
                    appended += 1
                wait_for(lambda: worker.acked >= appended - 20, "the worker to be mid-run")
                daemon.restart(sig)
            for _ in range(40):
                last = client.append(f"{name}-{appended % 5}", [EventData.json("Placed", {"n": appended})])
                appended += 1
            rows = list(client.query_rows(view, min_position=last.positions[-1], wait=60))
            assert sorted(row.value()["n"] for row in rows) == list(range(appended))
            info = client.group_info(group)
            assert info.parked == 0 and info.checkpoint == last.positions[-1]
            if asynchronous:
                loop.call_soon_threadsafe(worker.stop)
            else:
                worker.stop()
            thread.join(30)
            assert not thread.is_alive()
            if asynchronous:
                loop.run_until_complete(aclient.close())
                loop.close()
    finally:
        daemon.cleanup()
