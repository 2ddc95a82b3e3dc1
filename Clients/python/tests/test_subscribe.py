"""Catch-up subscriptions (history, CaughtUp, then live, with credit) and persistent
groups, both APIs."""

from __future__ import annotations

import asyncio
import threading

import pytest

import logbook_client
import logbook_client.aio
from logbook_client import ALL, END, EventData, Position


def ev(type: str = "Happened", n: int = 0) -> EventData:
    return EventData.json(type, {"n": n})


def take_until_caught_up(subscription) -> list:
    items = []
    for item in subscription:
        if isinstance(item, logbook_client.CaughtUp):
            return items
        if isinstance(item, logbook_client.RecordedEvent):
            items.append(item)
    raise AssertionError("the subscription ended before CaughtUp")


def take_events(subscription, count: int) -> list[logbook_client.RecordedEvent]:
    events = []
    for item in subscription:
        if isinstance(item, logbook_client.RecordedEvent):
            events.append(item)
            if len(events) == count:
                return events
    raise AssertionError("the subscription ended early")


def test_history_then_caught_up_then_live(daemon, client, name):
    stream = f"{name}-1"
    client.append(stream, [ev(n=i) for i in range(3)])
    with logbook_client.Client(daemon.socket_path) as other:
        with client.subscribe(stream) as subscription:
            history = take_until_caught_up(subscription)
            assert [e.json()["n"] for e in history] == [0, 1, 2]
            assert subscription.caught_up and subscription.position >= history[-1].position
            other.append(stream, [ev(n=3), ev(n=4)])
            live = take_events(subscription, 2)
            assert [e.revision for e in live] == [3, 4]
            assert subscription.position == live[-1].position
    assert client.append(stream, [ev()]).last_revision == 5  # the connection goes on
    assert all(c.abandoned for c in client._connection.calls)


def test_credit_is_granted_as_events_are_taken(client, name):
    stream = f"{name}-1"
    client.append(stream, [ev(n=i) for i in range(200)])
    with client.subscribe(stream, initial_credit=4) as subscription:
        history = take_until_caught_up(subscription)
    assert [e.revision for e in history] == list(range(200))


def test_initial_credit_must_be_positive(client):
    with pytest.raises(ValueError):
        client.subscribe(ALL, initial_credit=0)


def test_starts_are_exclusive_and_selectors_work(client, name):
    a = client.append(f"{name}-a", [ev("Placed", 1), ev("Paid", 2)])
    client.append(f"{name}-b", [ev("Placed", 3)])
    with client.subscribe(category=name) as s:
        assert [e.json()["n"] for e in take_until_caught_up(s)] == [1, 2, 3]
    with client.subscribe(category=name, from_=Position(a.positions[0])) as s:
        assert [e.json()["n"] for e in take_until_caught_up(s)] == [2, 3]
    with client.subscribe(f"{name}-a", from_=0) as s:  # after revision 0
        assert [e.json()["n"] for e in take_until_caught_up(s)] == [2]
    with client.subscribe(category=name, event_types=["Placed"]) as s:
        assert [e.json()["n"] for e in take_until_caught_up(s)] == [1, 3]
    with client.subscribe(ALL, from_=END) as s:
        assert take_until_caught_up(s) == []
        client.append(f"{name}-c", [ev(n=9)])
        assert [e.json()["n"] for e in take_events(s, 1)] == [9]


def test_one_client_subscribes_in_a_thread_and_appends_in_another(client, name):
    stream = f"{name}-1"
    seen: list[int] = []
    ready = threading.Event()

    def subscriber() -> None:
        with client.subscribe(stream) as s:
            for item in s:
                if isinstance(item, logbook_client.CaughtUp):
                    ready.set()
                elif isinstance(item, logbook_client.RecordedEvent):
                    seen.append(item.json()["n"])
                    if len(seen) == 50:
                        return

    thread = threading.Thread(target=subscriber)
    thread.start()
    assert ready.wait(10)
    for i in range(50):
        client.append(stream, [ev(n=i)])
    thread.join(30)
    assert seen == list(range(50))


def test_async_subscription_sees_every_live_event_once(daemon, name):
    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as client:
            stream = f"{name}-1"
            await client.append(stream, [ev(n=i) for i in range(10)])
            seen: list[int] = []
            caught_up = asyncio.Event()

            async def consume():
                async with client.subscribe(category=name, initial_credit=8) as s:
                    async for item in s:
                        if isinstance(item, logbook_client.CaughtUp):
                            caught_up.set()
                        elif isinstance(item, logbook_client.RecordedEvent):
                            seen.append(item.json()["n"])
                            if len(seen) == 210:
                                return

            async def produce():
                await caught_up.wait()  # what follows is live, whatever the machine's speed
                for i in range(10, 210, 4):
                    await client.append(stream, [ev(n=j) for j in range(i, i + 4)])

            consumer = asyncio.create_task(consume())
            await asyncio.gather(produce(), asyncio.wait_for(consumer, 30))
            assert seen == list(range(210))
            assert caught_up.is_set()
            assert (await client.append(stream, [ev()])).last_revision == 210

    asyncio.run(main())


def test_persistent_groups(client, name):
    """A full round: create, deliver, ack, settle, nack and redeliver, park, info, delete."""
    group = f"{name}-group"
    settings = logbook_client.GroupSettings(group, logbook_client.Selector.category(name), ack_timeout_ms=5000)
    created = client.create_group(settings)
    assert created.settings.name == group and created.settings.selector == settings.selector
    with pytest.raises(logbook_client.AlreadyExists):
        client.create_group(settings)
    assert group in [g.settings.name for g in client.list_groups()]
    with pytest.raises(logbook_client.NotFound):
        next(iter(client.subscribe_group(f"{group}-none")))

    client.append(f"{name}-1", [ev(n=i) for i in range(3)])
    with client.subscribe_group(group) as s:
        deliveries = []
        settled: set[int] = set()
        retried = None
        for item in s:
            if isinstance(item, logbook_client.Delivery):
                if item.event.revision == 1 and item.attempt == 1:
                    s.nack([item.delivery_id], "retry", "try again")
                    continue
                if item.event.revision == 1:
                    retried = item
                deliveries.append(item)
                s.ack([item.delivery_id])
            elif isinstance(item, logbook_client.Settled):
                settled.update(item.delivery_ids)
                if len(deliveries) == 3 and all(d.delivery_id in settled for d in deliveries):
                    break
    assert [d.event.revision for d in deliveries] == [0, 1, 2]
    assert retried is not None and retried.attempt == 2
    info = client.group_info(group)
    assert info.checkpoint == deliveries[-1].event.position
    client.delete_group(group)
    with pytest.raises(logbook_client.NotFound):
        client.group_info(group)


def test_async_groups(daemon, name):
    async def main():
        async with logbook_client.aio.Client(daemon.socket_path) as c:
            group = f"{name}-g"
            await c.create_group(logbook_client.GroupSettings(group, logbook_client.Selector.category(name)))
            await c.append(f"{name}-1", [ev(n=1)])
            async with c.subscribe_group(group) as s:
                async for item in s:
                    if isinstance(item, logbook_client.Delivery):
                        assert item.event.json() == {"n": 1}
                        await s.ack([item.delivery_id])
                    elif isinstance(item, logbook_client.Settled):
                        break
            assert (await c.group_info(group)).checkpoint > 0
            await c.delete_group(group)

    asyncio.run(main())
