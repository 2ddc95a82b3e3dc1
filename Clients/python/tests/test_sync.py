"""The synchronous client against a real logbookd: every call the server implements."""

from __future__ import annotations

import datetime
import threading
import time
import uuid

import pytest

import logbook_client
from logbook_client import _calls as calls
from logbook_client import (
    ALL,
    ANY,
    END,
    NO_STREAM,
    START,
    STREAM_EXISTS,
    EventData,
    Filter,
    Position,
    Revision,
    StreamAppend,
)


def ev(type: str = "Happened", n: int = 0, **kw) -> EventData:
    return EventData.json(type, {"n": n}, **kw)


# --- hello ---------------------------------------------------------------------------------


def test_hello_reply_carries_version_limits_and_peer(client, daemon):
    info = client.server_info
    assert info.protocol_version == 1
    assert info.server_version
    assert info.limits.frame_bytes_max > 0
    assert info.limits.events_per_append_max > 0
    assert info.peer_pid > 0
    import os

    assert info.peer_uid == os.getuid()
    assert info.peer_gid == os.getgid()


def test_unreachable_daemon_is_unavailable(tmp_path):
    with pytest.raises(logbook_client.Unavailable) as raised:
        logbook_client.Client(str(tmp_path / "nothing.sock"))
    assert raised.value.code == logbook_client.Code.UNAVAILABLE
    assert not raised.value.from_server


def test_socket_path_from_environment(daemon, monkeypatch):
    monkeypatch.setenv("LOGBOOK_SOCKET", daemon.socket_path)
    with logbook_client.Client() as client:
        assert client.socket_path == daemon.socket_path
        assert client.server_info.protocol_version == 1


# --- append and read back ------------------------------------------------------------------


def test_append_then_read_every_field(client, name):
    stream = f"{name}-1"
    first = EventData.json(
        "Placed", {"total": 12.5, "who": "Zoë 東京"}, metadata={"b": "2", "a": "ü"},
        correlation_id="corr-1", causation_id="cause-1",
    )  # fmt: skip
    second = EventData("Blob", b"\x00\xff\x10binary", content_type="image/x-test")
    third = EventData("Empty")
    result = client.append(stream, [first, second, third], expected=NO_STREAM)
    assert (result.stream, result.first_revision, result.last_revision) == (stream, 0, 2)
    assert len(result.positions) == 3
    assert list(result.positions) == list(range(result.positions[0], result.positions[0] + 3))
    assert result.commit_time_unix_micros > 0

    events = list(client.read(stream))
    assert [e.revision for e in events] == [0, 1, 2]
    assert [e.position for e in events] == list(result.positions)
    a, b, c = events
    assert a.id == first.id and a.type == "Placed" and a.stream == stream
    assert a.json() == {"total": 12.5, "who": "Zoë 東京"}
    assert a.content_type == "application/json" and a.is_json
    assert a.metadata == {"a": "ü", "b": "2"}
    assert (a.correlation_id, a.causation_id) == ("corr-1", "cause-1")
    assert a.time_unix_micros == result.commit_time_unix_micros
    assert a.time.tzinfo is not None
    assert b.data == b"\x00\xff\x10binary" and b.content_type == "image/x-test"
    assert c.data == b"" and c.content_type == "application/octet-stream"
    assert c.metadata == {} and c.correlation_id is None and c.causation_id is None


def test_client_makes_uuid7_ids():
    ids = [EventData("X").id for _ in range(1000)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 1000


def test_reading_a_missing_stream_is_empty(client, name):
    assert list(client.read(f"{name}-nothing")) == []


def test_read_across_many_batches(client, name):
    stream = f"{name}-big"
    batch_max = client.server_info.limits.read_batch_events_max
    count = batch_max * 2 + 7
    client.append(stream, [EventData("N", str(i).encode()) for i in range(count)])
    events = list(client.read(stream))
    assert [int(e.data) for e in events] == list(range(count))
    backwards = list(client.read(stream, backwards=True))
    assert [e.revision for e in backwards] == list(range(count - 1, -1, -1))


def test_a_stalled_read_holds_its_credit_and_no_more(client, name):
    # 12 MB in 20 streams: far more than a read's window; other calls on the same client
    # read the socket meanwhile, so without credit the whole read would pile up here.
    pad = b'{"pad":"' + b"x" * 600 + b'"}'
    for batch in range(20):
        client.append(f"{name}-{batch}", [EventData("Big", pad) for _ in range(1000)])
    stalled = client.read(category=name)
    first = next(stalled)
    assert first.stream == f"{name}-0"
    for i in range(5):
        client.append(f"{name}-beside", [EventData("Beside", b"{}")])
        assert len(list(client.read(f"{name}-beside"))) == i + 1
        time.sleep(0.05)
    call = stalled._call
    assert call is not None
    held = len(stalled._stream._items) + sum(len(f.event_batch.events) for f in call.frames)
    assert 0 < held <= calls.READ_CREDIT_EVENTS_MAX, f"{held} events held for a read that took 1"
    assert sum(1 for _ in stalled) == 20_000 - 1, "the whole read, once taken up again"


# --- expected revisions --------------------------------------------------------------------


def test_expected_revisions(client, name):
    stream = f"{name}-1"
    with pytest.raises(logbook_client.WrongExpectedRevision) as raised:
        client.append(stream, [ev()], expected=STREAM_EXISTS)
    assert raised.value.stream == stream
    assert raised.value.expected is STREAM_EXISTS
    assert raised.value.actual is None  # no such stream
    with pytest.raises(logbook_client.WrongExpectedRevision) as raised:
        client.append(stream, [ev()], expected=0)
    assert raised.value.actual is None and raised.value.expected == 0

    assert client.append(stream, [ev(n=0)], expected=NO_STREAM).last_revision == 0
    assert client.append(stream, [ev(n=1)], expected=0).last_revision == 1
    assert client.append(stream, [ev(n=2)], expected=STREAM_EXISTS).last_revision == 2
    assert client.append(stream, [ev(n=3)], expected=ANY).last_revision == 3

    with pytest.raises(logbook_client.WrongExpectedRevision) as raised:
        client.append(stream, [ev(n=99)], expected=NO_STREAM)
    error = raised.value
    assert isinstance(error, logbook_client.FailedPrecondition)
    assert error.code == logbook_client.Code.FAILED_PRECONDITION == 9
    assert error.from_server
    assert (error.stream, error.expected, error.actual) == (stream, NO_STREAM, 3)

    with pytest.raises(logbook_client.WrongExpectedRevision) as raised:
        client.append(stream, [ev(n=99)], expected=1)
    assert (raised.value.expected, raised.value.actual) == (1, 3)
    assert [e.json()["n"] for e in client.read(stream)] == [0, 1, 2, 3]


def test_concurrent_writers_one_wins_per_revision(daemon, name):
    """Many threads (each with its own connection, and some sharing one) race to append at
    the same expected revision: exactly one wins each round, the others learn the actual."""
    stream = f"{name}-race"
    shared = logbook_client.Client(daemon.socket_path)
    own = [logbook_client.Client(daemon.socket_path) for _ in range(4)]
    clients = own + [shared] * 4
    rounds = 10
    winners = []
    conflicts = []
    lock = threading.Lock()

    for round_number in range(rounds):
        barrier = threading.Barrier(len(clients))

        def writer(index: int, c: logbook_client.Client, expected=round_number - 1) -> None:
            barrier.wait()
            try:
                result = c.append(stream, [ev(n=index)], expected=NO_STREAM if expected < 0 else expected)
                with lock:
                    winners.append(result.last_revision)
            except logbook_client.WrongExpectedRevision as error:
                with lock:
                    conflicts.append((expected, error.actual))

        threads = [threading.Thread(target=writer, args=(i, c)) for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    assert sorted(winners) == list(range(rounds))
    assert len(conflicts) == rounds * (len(clients) - 1)
    for expected, actual in conflicts:
        assert actual == expected + 1  # the winner of that round moved the stream on
    for c in own + [shared]:
        c.close()


# --- idempotency ---------------------------------------------------------------------------


def test_retried_append_is_idempotent(client, name):
    stream = f"{name}-1"
    events = [ev(n=i) for i in range(3)]
    first = client.append(stream, events, expected=NO_STREAM)
    # A retry after a lost reply: same ids, same place. Even the expected revision that
    # was right the first time is accepted.
    again = client.append(stream, events, expected=NO_STREAM)
    assert again.positions == first.positions
    assert (again.first_revision, again.last_revision) == (0, 2)
    assert len(list(client.read(stream))) == 3


def test_event_id_used_elsewhere_is_already_exists(client, name):
    event = ev()
    placed = client.append(f"{name}-1", [event])
    with pytest.raises(logbook_client.AlreadyExists) as raised:
        client.append(f"{name}-2", [event])
    error = raised.value
    assert error.code == logbook_client.Code.ALREADY_EXISTS
    detail = error.details
    assert isinstance(detail, logbook_client.EventIdConflictDetail)
    assert detail.event_id == event.id
    assert detail.stream == f"{name}-1" and detail.revision == placed.first_revision
    assert list(client.read(f"{name}-2")) == []


# --- atomic multi-stream append ------------------------------------------------------------


def test_append_many_commits_all_streams_atomically(client, name):
    results = client.append_many(
        [
            StreamAppend(f"{name}-a", [ev(n=1), ev(n=2)], NO_STREAM),
            (f"{name}-b", [ev(n=3)]),
            (f"{name}-c", [ev(n=4)], ANY),
        ]
    )
    assert [r.stream for r in results] == [f"{name}-a", f"{name}-b", f"{name}-c"]
    positions = [p for r in results for p in r.positions]
    assert positions == list(range(positions[0], positions[0] + 4))
    assert len({r.commit_time_unix_micros for r in results}) == 1


def test_append_many_writes_nothing_when_one_expectation_fails(client, name):
    client.append(f"{name}-b", [ev()])
    with pytest.raises(logbook_client.WrongExpectedRevision) as raised:
        client.append_many(
            [
                StreamAppend(f"{name}-a", [ev()], NO_STREAM),
                StreamAppend(f"{name}-b", [ev()], NO_STREAM),
            ]
        )
    assert raised.value.stream == f"{name}-b" and raised.value.actual == 0
    assert list(client.read(f"{name}-a")) == []
    assert len(list(client.read(f"{name}-b"))) == 1


# --- read selectors, starts, directions, filters -------------------------------------------


@pytest.fixture
def story(fresh_daemon):
    """A small log in a daemon of its own: positions are known."""
    with logbook_client.Client(fresh_daemon.socket_path) as c:
        c.append("order-1", [ev("Placed", 1, correlation_id="k1"), ev("Paid", 2, correlation_id="k1")])
        c.append("order-2", [ev("Placed", 3, correlation_id="k2")])
        c.append("invoice-1", [ev("Issued", 4, correlation_id="k1")])
        c.append("order-1", [ev("Shipped", 5)])
        yield c


def numbers(events) -> list[int]:
    return [e.json()["n"] for e in events]


def test_read_selectors(story):
    assert numbers(story.read("order-1")) == [1, 2, 5]
    assert numbers(story.read(ALL)) == [1, 2, 3, 4, 5]
    assert [e.position for e in story.read(ALL)] == [1, 2, 3, 4, 5]
    assert numbers(story.read(category="order")) == [1, 2, 3, 5]
    assert numbers(story.read(event_type="Placed")) == [1, 3]
    assert numbers(story.read(correlation_id="k1")) == [1, 2, 4]
    assert numbers(story.read(logbook_client.Selector.category("invoice"))) == [4]


def test_read_starts_directions_limits(story):
    assert numbers(story.read("order-1", from_=1)) == [2, 5]  # a revision in a stream
    assert numbers(story.read("order-1", from_=Revision(2))) == [5]
    assert numbers(story.read(ALL, from_=3)) == [3, 4, 5]  # a position elsewhere
    assert numbers(story.read(category="order", from_=Position(3))) == [3, 5]
    assert numbers(story.read(ALL, from_=START, limit=2)) == [1, 2]
    assert numbers(story.read(ALL, backwards=True)) == [5, 4, 3, 2, 1]
    assert numbers(story.read(ALL, backwards=True, limit=2)) == [5, 4]
    assert numbers(story.read(ALL, backwards=True, from_=3)) == [3, 2, 1]
    assert numbers(story.read("order-1", backwards=True, from_=END)) == [5, 2, 1]
    assert numbers(story.read("order-1", backwards=True, from_=1)) == [2, 1]
    assert numbers(story.read(ALL, from_=END)) == []


def test_read_as_of_position(story):
    assert numbers(story.read(ALL, as_of=3)) == [1, 2, 3]
    assert numbers(story.read("order-1", as_of=3)) == [1, 2]
    assert numbers(story.read(ALL, backwards=True, as_of=2)) == [2, 1]


def test_read_filters(story):
    assert numbers(story.read(ALL, event_types=["Placed", "Issued"])) == [1, 3, 4]
    assert numbers(story.read(ALL, stream_prefix="order-1")) == [1, 2, 5]
    assert numbers(story.read(ALL, filter=Filter(("Placed",), "order-2"))) == [3]
    assert numbers(story.read(correlation_id="k1", event_types=["Paid"])) == [2]


def test_read_selector_must_be_given_once(client):
    with pytest.raises(TypeError):
        client.read()
    with pytest.raises(TypeError):
        client.read("a", category="b")


# --- stopping early, cancel, timeouts ------------------------------------------------------


def test_stopping_a_read_early_cancels_it_and_the_connection_goes_on(client, name):
    stream = f"{name}-long"
    batch = client.server_info.limits.read_batch_events_max
    client.append(stream, [EventData("N", b"x" * 100) for _ in range(batch * 4)])
    for _ in range(20):
        for event in client.read(stream):
            if event.revision == 3:
                break
    with client.read(stream) as events:
        assert next(events).revision == 0
    iterator = client.read(stream)
    next(iterator)
    iterator.close()
    with pytest.raises(StopIteration):
        next(iterator)
    # Nothing of those reads is left on the connection: other calls work, and no call is open.
    assert client.append(stream, [ev()]).last_revision == batch * 4
    assert len(list(client.read(stream))) == batch * 4 + 1
    assert client._connection.calls == []


def test_a_read_open_while_other_calls_run(client, name):
    """Calls are multiplexed: a half-read iterator does not block an append."""
    stream = f"{name}-1"
    batch = client.server_info.limits.read_batch_events_max
    client.append(stream, [EventData("N") for _ in range(batch * 3)])
    reader = client.read(stream)
    seen = [next(reader).revision]
    client.append(f"{name}-2", [ev()])
    assert len(list(client.read(f"{name}-2"))) == 1
    seen += [e.revision for e in reader]
    assert seen == list(range(batch * 3))


def test_timeout_is_sent_and_a_quick_call_passes(client, name):
    assert client.append(f"{name}-1", [ev()], timeout=5).last_revision == 0
    assert len(list(client.read(f"{name}-1", timeout=5))) == 1
    with pytest.raises(ValueError):
        client.append(f"{name}-1", [ev()], timeout=0)


def test_many_threads_share_one_client(client, name):
    errors = []

    def work(index: int) -> None:
        try:
            stream = f"{name}-{index}"
            for i in range(20):
                client.append(stream, [ev(n=i)], expected=i - 1 if i else NO_STREAM)
            assert numbers(client.read(stream)) == list(range(20))
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert client._connection.calls == []


# --- views and system views --------------------------------------------------------------


def test_view_admin_and_queries(client, name):
    """Views are defined, listed, queried and dropped; refusals come as typed exceptions."""
    group, view = f"{name}-g", f"{name}-v"
    client.create_group(logbook_client.GroupSettings(name=group, selector=logbook_client.Selector.category(f"{name}x")))
    client.define_view(view, group, ["$.total"])
    client.define_view(view, group, ["$.total"])  # the same definition again is fine
    with pytest.raises(logbook_client.AlreadyExists):
        client.define_view(view, group, ["$.other"])
    assert logbook_client.ViewDefinition(view, group, ("$.total",)) in client.list_views()
    assert f'logbook_view_lag{{view="{view}"}}' in client.metrics()
    result = client.query(
        view, key_prefix="o-", where=[logbook_client.Predicate("$.total", "in", 1, 2.5, "x")],
        order_by="$.total", descending=True, limit=5,
    )  # fmt: skip
    assert result.rows == () and result.next_cursor is None
    with pytest.raises(logbook_client.FailedPrecondition):
        client.delete_group(group)  # it still writes the view
    client.drop_view(view)
    with pytest.raises(logbook_client.NotFound):
        client.query(view)
    with pytest.raises(logbook_client.NotFound):
        client.drop_view(view)
    client.delete_group(group)
    client.append(f"{name}-s1", [ev(), ev()])
    (row,) = client.query("$streams", key=f"{name}-s1").rows
    assert row.value()["event_count"] == 2 and row.value()["last_revision"] == 1
    # The connection is fine after all of them.
    assert list(client.read(f"x{uuid.uuid4().hex}")) == []



# --- stream lifecycle: delete, tombstone, bounds ------------------------------------------


def test_soft_delete_hides_a_stream_until_an_append_recreates_it(client, name):
    stream, other = f"{name}-1", f"{name}-2"
    first = client.append(stream, [ev(n=i) for i in range(3)], expected=NO_STREAM).positions[0]
    client.append(other, [ev(n=9)])
    assert [e.stream for e in client.read(ALL, from_=Position(first))].count(stream) == 3
    info = client.delete_stream(stream, expected=2)
    assert isinstance(info, logbook_client.StreamInfo)
    assert (info.stream, info.last_revision, info.deleted, info.tombstoned) == (stream, 2, True, False)
    assert info.exists
    with pytest.raises(logbook_client.NotFound) as raised:
        list(client.read(stream))
    error = raised.value
    assert isinstance(error, logbook_client.StreamDeleted) and type(error) is logbook_client.StreamDeletedNotFound
    assert (error.stream, error.hard, error.from_server) == (stream, False, True)
    assert error.details == logbook_client.StreamDeletedDetail(stream, False)
    # $all and the category skip its events.
    assert [e.stream for e in client.read(ALL, from_=Position(first)) if e.stream.startswith(name)] == [other]
    assert [e.stream for e in client.read(category=name)] == [other]
    assert client.get_stream_metadata(stream) == info
    # An old exact revision never matches again; NO_STREAM recreates it, revisions go on.
    with pytest.raises(logbook_client.WrongExpectedRevision) as wrong:
        client.append(stream, [ev()], expected=2)
    assert wrong.value.actual is None
    result = client.append(stream, [ev(n=3)], expected=NO_STREAM)
    assert (result.first_revision, result.last_revision) == (3, 3)
    assert [(e.revision, e.json()["n"]) for e in client.read(stream)] == [(3, 3)]
    info = client.stream_info(stream)
    assert (info.last_revision, info.deleted, info.tombstoned) == (3, False, False)


def test_hard_delete_tombstones_a_stream(client, name):
    stream = f"{name}-1"
    client.append(stream, [ev()])
    info = client.delete_stream(stream, hard=True)
    assert (info.last_revision, info.deleted, info.tombstoned) == (0, True, True)
    with pytest.raises(logbook_client.FailedPrecondition) as raised:
        client.append(stream, [ev()], expected=NO_STREAM)
    error = raised.value
    assert type(error) is logbook_client.StreamDeletedFailedPrecondition
    assert isinstance(error, logbook_client.StreamDeleted)
    assert not isinstance(error, logbook_client.WrongExpectedRevision)
    assert (error.stream, error.hard) == (stream, True)
    with pytest.raises(logbook_client.StreamDeletedNotFound) as read:
        list(client.read(stream))
    assert read.value.hard
    with pytest.raises(logbook_client.StreamDeletedFailedPrecondition):
        client.delete_stream(stream)  # deleting it again
    assert client.get_stream_metadata(stream).tombstoned


def test_delete_with_a_wrong_expected_revision_deletes_nothing(client, name):
    stream = f"{name}-1"
    client.append(stream, [ev(), ev()])
    with pytest.raises(logbook_client.WrongExpectedRevision) as raised:
        client.delete_stream(stream, expected=0)
    assert (raised.value.stream, raised.value.actual) == (stream, 1)
    assert len(list(client.read(stream))) == 2
    assert not client.get_stream_metadata(stream).deleted


def test_stream_bounds_hide_older_events_at_once(client, name):
    stream = f"{name}-1"
    client.append(stream, [ev(n=i) for i in range(4)])
    info = client.set_stream_metadata(stream, max_count=1)
    assert (info.max_count, info.max_age, info.truncate_before, info.last_revision) == (1, None, None, 3)
    assert [e.json()["n"] for e in client.read(stream)] == [3]
    assert [e.revision for e in client.read(category=name)] == [3]
    assert client.get_stream_metadata(stream) == info
    # Setting replaces every bound: max_count is gone, truncate_before hides revisions 0-1.
    info = client.set_stream_metadata(stream, max_age=datetime.timedelta(days=2), truncate_before=2)
    assert (info.max_count, info.max_age, info.truncate_before) == (None, 172800.0, 2)
    assert [e.revision for e in client.read(stream)] == [2, 3]
    assert client.set_stream_metadata(stream, max_age=3600.9).max_age == 3600.0  # whole seconds
    info = client.set_stream_metadata(stream)  # no bound at all
    assert (info.max_count, info.max_age, info.truncate_before) == (None, None, None)
    assert len(list(client.read(stream))) == 4
    # A stream that never had an event answers too.
    never = client.get_stream_metadata(f"{name}-none")
    assert (never.exists, never.last_revision, never.deleted) == (False, None, False)


@pytest.mark.parametrize(
    "bounds",
    [{"max_count": 0}, {"max_count": -1}, {"max_age": 0.5}, {"max_age": 0}, {"max_age": float("nan")},
     {"max_age": datetime.timedelta(milliseconds=999)}, {"truncate_before": -1}, {"max_count": 1 << 64}],
)  # fmt: skip
def test_bad_stream_bounds_are_refused_before_sending(client, name, bounds, monkeypatch):
    def no_call(*args, **kwargs):
        raise AssertionError("a call was started")

    with monkeypatch.context() as patched:
        patched.setattr(client, "_start", no_call)
        with pytest.raises(logbook_client.InvalidArgument) as raised:
            client.set_stream_metadata(f"{name}-1", **bounds)
        assert not raised.value.from_server and isinstance(raised.value.details, logbook_client.BadFieldDetail)
        with pytest.raises(TypeError):
            client.set_stream_metadata(f"{name}-1", max_count=True)
        with pytest.raises(TypeError):
            client.set_stream_metadata(f"{name}-1", max_age="1h")
        with pytest.raises(TypeError):
            client.delete_stream(f"{name}-1", hard="yes")
    assert client.get_stream_metadata(f"{name}-1").max_count is None


def test_a_daemon_that_stays_away_fails_calls_after_their_wait(fresh_daemon, name):
    client = logbook_client.Client(fresh_daemon.socket_path, reconnect_wait=0.3)
    client.append(f"{name}-1", [ev()])
    fresh_daemon.process.kill()
    fresh_daemon.process.wait()
    for _ in range(2):
        with pytest.raises(logbook_client.Unavailable, match="could not be reached") as raised:
            client.append(f"{name}-1", [ev()])  # waits reconnect_wait
        assert raised.value.safe_to_retry
    with pytest.raises(logbook_client.Unavailable, match="could not be reached"):
        list(client.read(f"{name}-1", timeout=0.1))  # waits its own timeout
    assert not client.closed
    client.close()
    client.close()  # twice is fine


def test_closed_client_refuses_calls(daemon, name):
    client = logbook_client.Client(daemon.socket_path)
    client.close()
    assert client.closed
    with pytest.raises(logbook_client.Unavailable):
        client.append(f"{name}-1", [ev()])


def test_a_deadline_ends_a_stalled_read_with_deadline_exceeded(client, name):
    """The reader stops reading; socket back-pressure stalls the server, the deadline sent
    with the request passes, and the call ends with DEADLINE_EXCEEDED after what was sent."""
    import time

    stream = f"{name}-big"
    for _ in range(4):
        client.append(stream, [EventData("N", b"x" * 2000) for _ in range(5000)])
    events = client.read(stream, timeout=0.3)
    next(events)
    time.sleep(1.0)
    with pytest.raises(logbook_client.DeadlineExceeded) as raised:
        for _ in events:
            pass
    assert raised.value.from_server
    assert client.append(f"{name}-after", [ev()]).last_revision == 0


def test_more_threads_than_the_server_allows_open_calls(client, name):
    limit = client.server_info.limits.open_calls_per_connection_max
    count = limit + 50
    barrier = threading.Barrier(count)
    errors = []

    def work(i: int) -> None:
        barrier.wait()
        try:
            client.append(f"{name}-{i % 10}", [ev(n=i)])
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(list(client.read(category=name))) == count
