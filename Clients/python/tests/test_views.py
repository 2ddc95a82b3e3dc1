"""Views written through acks, and Query with read-your-writes, against real processes:
the daemon and projection workers (tests/view_worker.py) that are SIGKILLed mid-run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import logbook_client
from logbook_client import GroupSettings, Predicate, Selector, ViewWrite

from conftest import Daemon

WORKER = Path(__file__).with_name("view_worker.py")


def start_worker(daemon: Daemon, group: str, view: str, mode: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), "--socket", daemon.socket_path, "--group", group,
         "--view", view, "--mode", mode, *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(10)


def setup_view(client: logbook_client.Client, group: str, view: str, category: str, strategy: str = "single") -> None:
    client.create_group(GroupSettings(
        name=group, selector=Selector.category(category), strategy=strategy,
        max_in_flight=16, ack_timeout_ms=60_000,
    ))  # fmt: skip
    client.define_view(view, group, ["$.position"])


def append_ticks(client: logbook_client.Client, category: str, count: int, start: int = 0) -> int:
    """Appends `count` events to streams of `category`; returns the last position."""
    last = 0
    for i in range(start, start + count):
        result = client.append(f"{category}-{i % 7}", [logbook_client.EventData.json("Tick", {"i": i})])
        last = result.positions[-1]
    return last


def count_in_view(client: logbook_client.Client, view: str, min_position: int, wait: float = 30) -> int:
    rows = client.query(view, key="counter", min_position=min_position, wait=wait).rows
    return rows[0].value()["n"] if rows else 0


def test_counter_view_is_exact_across_worker_and_daemon_sigkills(binaries):
    daemon = Daemon(binaries["logbookd"])
    daemon.start()
    worker = None
    try:
        with logbook_client.Client(daemon.socket_path) as client:
            setup_view(client, "counter", "counts", "tick")
            append_ticks(client, "tick", 120)
        # 1. A worker that SIGKILLs itself right after an ack is confirmed on disk, before
        #    it takes its next delivery.
        worker = start_worker(daemon, "counter", "counts", "counter", "--die-after-settled", "40")
        assert worker.wait(60) == -signal.SIGKILL, worker.stderr.read().decode()
        # 2. A worker that runs on while the daemon is SIGKILLed mid-run and restarted.
        worker = start_worker(daemon, "counter", "counts", "counter", "--delay-ms", "2")
        with logbook_client.Client(daemon.socket_path) as client:
            head = append_ticks(client, "tick", 200, start=120)
            deadline = time.monotonic() + 60
            while (before_kill := count_in_view(client, "counts", 0)) < 160 and time.monotonic() < deadline:
                time.sleep(0.01)
        daemon.process.send_signal(signal.SIGKILL)
        assert 160 <= before_kill < 320  # the worker was mid-run
        daemon.process.wait(10)
        daemon.start()
        with logbook_client.Client(daemon.socket_path) as client:
            head = append_ticks(client, "tick", 80, start=320)
            counted = count_in_view(client, "counts", head, wait=60)
            assert counted == 400
            assert client.group_info("counter").checkpoint == head
    finally:
        if worker is not None:
            stop(worker)
        daemon.cleanup()


def test_read_your_writes_for_a_thousand_rounds(fresh_daemon):
    worker = None
    try:
        with logbook_client.Client(fresh_daemon.socket_path) as client:
            setup_view(client, "echo", "echoes", "rw", strategy="by_stream")
            worker = start_worker(fresh_daemon, "echo", "echoes", "echo")
            for i in range(1000):
                appended = client.append(f"rw-{i % 10}", [logbook_client.EventData.json("Wrote", {"key": f"k{i}"})])
                position = appended.positions[-1]
                result = client.query("echoes", key=f"k{i}", min_position=position, wait=10)
                assert [row.value()["position"] for row in result.rows] == [position], f"round {i}"
                assert result.as_of_position >= position
            # An append the group's selector does not match does not hold queries back.
            unrelated = client.append("elsewhere-1", [logbook_client.EventData.json("Other", {})]).positions[-1]
            assert client.query("echoes", key="k0", min_position=unrelated, wait=10).as_of_position >= unrelated
            # A position beyond the log's head is never reached: DEADLINE_EXCEEDED after the wait.
            started = time.monotonic()
            with pytest.raises(logbook_client.DeadlineExceeded):
                client.query("echoes", key="k0", min_position=unrelated + 1_000, wait=0.3)
            assert time.monotonic() - started >= 0.3
            assert worker.poll() is None, worker.stderr.read().decode()
    finally:
        if worker is not None:
            stop(worker)


def test_refused_view_writes_end_the_call_and_apply_nothing(fresh_daemon):
    with logbook_client.Client(fresh_daemon.socket_path) as client:
        setup_view(client, "writer-a", "view-a", "ra")
        setup_view(client, "writer-b", "view-b", "rb")
        client.append("ra-1", [logbook_client.EventData.json("Tick", {})])
        cases = [
            (ViewWrite("view-b", "k", put="{}"), logbook_client.FailedPrecondition),  # another group's view
            (ViewWrite("view-a", "k", put="{not json"), logbook_client.InvalidArgument),
            (ViewWrite("nope", "k", put="{}"), logbook_client.NotFound),
            (ViewWrite("view-a", "", put="{}"), logbook_client.InvalidArgument),
        ]
        for write, expected in cases:
            with client.subscribe_group("writer-a") as deliveries:
                with pytest.raises(expected):
                    for item in deliveries:
                        if isinstance(item, logbook_client.Delivery):
                            # A good write beside the bad one: nothing of the ack may apply.
                            deliveries.ack([item.delivery_id], [ViewWrite("view-a", "good", put="{}"), write])
        for view in ("view-a", "view-b"):
            assert client.query(view).rows == ()
        # The event was never settled: a well-behaved consumer gets it again.
        with client.subscribe_group("writer-a") as deliveries:
            for item in deliveries:
                if isinstance(item, logbook_client.Delivery):
                    deliveries.ack([item.delivery_id], [ViewWrite("view-a", "good", merge='{"ok": true}')])
                    break
        deadline = time.monotonic() + 10
        while not client.query("view-a").rows and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [(row.key, row.value()) for row in client.query("view-a").rows] == [("good", {"ok": True})]


def test_reset_with_clear_views_rebuilds_the_projection(fresh_daemon):
    worker = None
    try:
        with logbook_client.Client(fresh_daemon.socket_path) as client:
            setup_view(client, "rebuild", "rebuilt", "rbd", strategy="by_stream")
            worker = start_worker(fresh_daemon, "rebuild", "rebuilt", "echo")
            last = 0
            for i in range(50):
                last = client.append(f"rbd-{i % 5}", [logbook_client.EventData.json("Wrote", {"key": f"k{i:02}"})]).positions[-1]
            assert len(client.query("rebuilt", min_position=last, wait=10, limit=100).rows) == 50
            stop(worker)
            client.reset_group("rebuild", clear_views=True)
            assert client.query("rebuilt").rows == ()
            assert client.query("rebuilt").as_of_position == 0
            worker = start_worker(fresh_daemon, "rebuild", "rebuilt", "echo")
            rows = client.query("rebuilt", min_position=last, wait=10, limit=100).rows
            assert [row.key for row in rows] == [f"k{i:02}" for i in range(50)]
    finally:
        if worker is not None:
            stop(worker)


def test_queries_filter_order_and_page_like_a_reference(fresh_daemon):
    worker = None
    try:
        with logbook_client.Client(fresh_daemon.socket_path) as client:
            setup_view(client, "docs", "docs", "doc", strategy="by_stream")
            worker = start_worker(fresh_daemon, "docs", "docs", "echo")
            last = 0
            for i in range(60):
                data = {"key": f"d{i:02}", "n": (i * 37) % 11, "tag": ["red", "green", "blue"][i % 3]}
                if i % 4 == 0:
                    del data["n"]
                last = client.append(f"doc-{i}", [logbook_client.EventData.json("Doc", data)]).positions[-1]
            docs = {row.key: row.value()["data"] for row in client.query("docs", min_position=last, wait=10, limit=1000).rows}
            assert len(docs) == 60
            checks = [
                (Predicate("$.data.n", ">", 5), lambda d: "n" in d and d["n"] > 5),
                (Predicate("$.data.n", "<=", 3), lambda d: "n" in d and d["n"] <= 3),
                (Predicate("$.data.n", "!=", 4), lambda d: d.get("n") != 4),
                (Predicate("$.data.n", "=", None), lambda d: "n" not in d),
                (Predicate("$.data.tag", "in", "red", "blue"), lambda d: d["tag"] in ("red", "blue")),
                (Predicate("$.data.tag", "prefix", "gr"), lambda d: d["tag"].startswith("gr")),
            ]
            for predicate, keep in checks:
                got = [row.key for row in client.query("docs", where=[predicate], limit=1000).rows]
                assert got == sorted(k for k, d in docs.items() if keep(d)), predicate
            # Pages of 7 ordered by n descending (missing n last), then key descending.
            seen, cursor = [], None
            while True:
                page = client.query("docs", order_by="$.data.n", descending=True, limit=7, cursor=cursor)
                seen += [row.key for row in page.rows]
                cursor = page.next_cursor
                if cursor is None:
                    break
            expected = sorted(docs, key=lambda k: (docs[k].get("n", -1), k), reverse=True)
            assert seen == expected
            with pytest.raises(logbook_client.NotFound):
                client.query("no-such-view")
            with pytest.raises(logbook_client.InvalidArgument):
                client.query("docs", where=[Predicate("data.n", "=", 1)])
            with pytest.raises(logbook_client.InvalidArgument):
                client.query("docs", where=[Predicate("$.data.n", "<", True)])
    finally:
        if worker is not None:
            stop(worker)


def test_system_views_agree_with_the_log(fresh_daemon):
    with logbook_client.Client(fresh_daemon.socket_path) as client:
        client.create_group(GroupSettings(name="sys-g", selector=Selector.category("acct")))
        marks = []  # (position, time) after each round
        for round_ in range(6):
            for i in range(round_ + 2):
                events = [logbook_client.EventData.json(f"T{(round_ + j) % 3}", {"r": round_}) for j in range(1 + i % 3)]
                client.append(f"acct-{i}", events)
            client.append_many([
                (f"ship-{round_}", [logbook_client.EventData.json("Shipped", {})], logbook_client.ANY),
                ("acct-0", [logbook_client.EventData.json("T0", {})], logbook_client.ANY),
            ])  # fmt: skip
            head = list(client.read(logbook_client.ALL, backwards=True, limit=1))[0]
            marks.append((head.position, head.time_unix_micros))
            time.sleep(0.002)
        events = list(client.read(logbook_client.ALL))

        def reference(up_to: int) -> tuple[dict, dict]:
            streams, types = {}, {}
            for event in events:
                if event.position > up_to:
                    break
                s = streams.setdefault(event.stream, {"event_count": 0, "first_position": event.position})
                s.update(event_count=s["event_count"] + 1, last_revision=event.revision, last_position=event.position)
                t = types.setdefault(event.type, {"event_count": 0, "first_position": event.position})
                t.update(event_count=t["event_count"] + 1, last_position=event.position)
            return streams, types

        def fields(rows, names):
            return {row.key: {n: row.value()[n] for n in names} for row in rows}

        stream_fields = ("event_count", "first_position", "last_position", "last_revision")
        type_fields = ("event_count", "first_position", "last_position")
        for position, micros in marks:
            streams, types = reference(position)
            by_position = client.query("$streams", as_of_position=position, limit=1000)
            assert by_position.as_of_position == position
            assert fields(by_position.rows, stream_fields) == streams
            by_time = client.query("$streams", as_of_time_unix_micros=micros, limit=1000)
            assert fields(by_time.rows, stream_fields) == streams
            assert fields(client.query("$event_types", as_of_position=position, limit=1000).rows, type_fields) == types
            # ReadStream as of that time shows exactly the events up to that position.
            assert [e.position for e in client.read(logbook_client.ALL, as_of_time_unix_micros=micros)] == list(range(1, position + 1))
            assert [e.position for e in client.read("acct-0", as_of=position)] == [
                e.position for e in events if e.stream == "acct-0" and e.position <= position]
        streams, _ = reference(events[-1].position)
        assert fields(client.query("$streams", key_prefix="ship-").rows, stream_fields) == {
            k: v for k, v in streams.items() if k.startswith("ship-")}
        (row,) = client.query("$streams", key="acct-0").rows
        first = next(e for e in events if e.stream == "acct-0")
        assert row.value()["first_time"].startswith(time.strftime("%Y-%m-%dT", time.gmtime(first.time_unix_micros / 1e6)))
        busy = client.query("$streams", where=[Predicate("$.event_count", ">=", 5)], order_by="$.event_count", descending=True)
        assert [r.key for r in busy.rows] == sorted(
            (k for k, v in streams.items() if v["event_count"] >= 5), key=lambda k: (streams[k]["event_count"], k), reverse=True)
        (group,) = client.query("$groups").rows
        assert group.key == "sys-g" and group.value()["lag"] == events[-1].position - group.value()["checkpoint"]
        (stats,) = client.query("$stats").rows
        assert stats.value()["events"] == events[-1].position and stats.value()["appends"] == sum(r + 3 for r in range(6))
        with pytest.raises(logbook_client.InvalidArgument):
            client.query("$groups", as_of_position=1)


def test_a_waiting_query_survives_a_group_restart(fresh_daemon):
    """update_group restarts the group's runtime; a query waiting on its checkpoint waits on
    the new one instead of failing early."""
    import threading

    worker = None
    try:
        with logbook_client.Client(fresh_daemon.socket_path) as client:
            setup_view(client, "restarted", "restarted", "rs", strategy="by_stream")
            position = client.append("rs-1", [logbook_client.EventData.json("Wrote", {"key": "k"})]).positions[-1]
            outcome = {}

            def query():
                try:
                    outcome["rows"] = client.query("restarted", key="k", min_position=position, wait=30).rows
                except logbook_client.LogbookError as error:
                    outcome["error"] = error

            waiting = threading.Thread(target=query)
            waiting.start()
            time.sleep(0.2)
            client.update_group(GroupSettings(
                name="restarted", selector=Selector.category("rs"), strategy="by_stream",
                max_in_flight=8, ack_timeout_ms=60_000,
            ))  # fmt: skip
            time.sleep(0.2)
            assert waiting.is_alive(), outcome
            worker = start_worker(fresh_daemon, "restarted", "restarted", "echo")
            waiting.join(30)
            assert [row.key for row in outcome.get("rows", ())] == ["k"], outcome
    finally:
        if worker is not None:
            stop(worker)


def test_query_rows_follows_the_cursors_in_both_apis(fresh_daemon):
    import asyncio

    import logbook_client.aio

    with logbook_client.Client(fresh_daemon.socket_path) as client:
        for i in range(25):
            client.append(f"many-{i:02}", [logbook_client.EventData.json("Made", {"i": i})])
        keys = [row.key for row in client.query_rows("$streams", key_prefix="many-", limit=4, min_position=25, wait=5)]
        assert keys == [f"many-{i:02}" for i in range(25)]
        newest_first = [row.value()["first_position"] for row in client.query_rows(
            "$streams", key_prefix="many-", order_by="$.first_position", descending=True, limit=7)]
        assert newest_first == list(range(25, 0, -1))

    async def main():
        async with logbook_client.aio.Client(fresh_daemon.socket_path) as client:
            return [row.key async for row in client.query_rows("$streams", key_prefix="many-", limit=6)]

    assert asyncio.run(main()) == [f"many-{i:02}" for i in range(25)]
