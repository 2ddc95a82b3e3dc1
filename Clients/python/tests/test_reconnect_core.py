"""What the I/O-free core decides when a socket is lost, without a socket: which calls fail
and how, which are sent again, when to reconnect, how long calls wait, and how a
subscription resumes. Time is a fake clock; jitter is fixed."""

from __future__ import annotations

import logging

import pytest

import logbook_client
import logbook_client.aio
from logbook_client import _calls as calls
from logbook_client import _protocol as P
from logbook_client._connection import Backoff, CallState, Connection, Status
from logbook_client._pb.logbook.v1 import frame_pb2

from test_core import batch, encoded, hello_reply, read_request, sent, status


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ready(clock: Clock, *, jitter: float = 1.0, reconnect_wait: float | None = 30.0, **options) -> Connection:
    connection = Connection("me", clock=clock, random=lambda: jitter, reconnect_wait=reconnect_wait, **options)
    connection.data_to_send()
    connection.receive_data(hello_reply())
    assert connection.status is Status.READY
    return connection


def reconnect(connection: Connection, clock: Clock) -> None:
    clock.now += connection.reconnect_in()
    assert connection.reconnect_in() == 0
    connection.connecting()
    (hello,) = sent(connection)
    assert hello.WhichOneof("body") == "hello"
    connection.receive_data(hello_reply())
    assert connection.status is Status.READY


def append_request(**options) -> frame_pb2.Frame:
    return calls.append("s", [logbook_client.EventData("T")], **options).request


# --- back-off ------------------------------------------------------------------------------


def test_the_backoff_doubles_from_50_ms_to_2_s_and_takes_half_to_all_of_a_step():
    backoff = Backoff()
    assert [backoff.delay(n, 1.0) for n in range(7)] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0]
    assert backoff.delay(0, 0.0) == 0.025 and backoff.delay(40, 0.0) == 1.0
    assert backoff.delay(3, 0.5) == pytest.approx(0.3)


def test_failed_attempts_back_off_and_a_handshake_resets_the_backoff():
    clock = Clock()
    connection = ready(clock)
    connection.start(read_request())
    connection.connection_lost(ConnectionResetError())
    connection.start(read_request())  # something waits: the connection wants a socket
    waits = []
    for _ in range(4):
        waits.append(connection.reconnect_in())
        clock.now += waits[-1]
        connection.connecting()
        connection.connect_failed(ConnectionRefusedError(111, "refused"))
    assert waits == pytest.approx([0.05, 0.1, 0.2, 0.4])
    reconnect(connection, clock)
    connection.start(read_request())
    connection.connection_lost(ConnectionResetError())
    connection.start(read_request())
    assert connection.reconnect_in() == pytest.approx(0.05)


def test_nothing_reconnects_until_a_call_needs_it():
    clock = Clock()
    connection = ready(clock)
    connection.connection_lost(ConnectionResetError())
    assert connection.status is Status.DOWN and connection.reconnect_in() is None
    connection.start(read_request())
    assert connection.reconnect_in() == pytest.approx(0.05)


# --- calls at the loss -----------------------------------------------------------------------


def test_calls_in_flight_fail_saying_whether_a_retry_is_safe():
    clock = Clock()
    connection = ready(clock)
    read = connection.start(read_request())
    query = connection.start(calls.query("v").request)
    info = calls.group_info("g")
    listing = connection.start(info.request, safe_to_retry=info.safe_to_retry)
    change = calls.create_group(logbook_client.GroupSettings("g"))
    creating = connection.start(change.request, safe_to_retry=change.safe_to_retry)
    assert connection.connection_lost(ConnectionResetError(104, "reset")) == [read, query, listing, creating]
    outcomes = {}
    for name, call in [("read", read), ("query", query), ("info", listing), ("create", creating)]:
        with pytest.raises(logbook_client.Unavailable) as raised:
            connection.next_frame(call)
        outcomes[name] = raised.value.safe_to_retry
        assert "in flight" in raised.value.message
    assert outcomes == {"read": True, "query": True, "info": True, "create": False}
    assert "not safe to retry" in str(raised.value)


def test_an_append_in_flight_is_sent_again_with_the_same_ids_on_the_next_socket():
    clock = Clock()
    connection = ready(clock)
    request = append_request()
    event_id = request.append_request.streams[0].events[0].id
    append = connection.start(request, resend=True)
    read = connection.start(read_request())
    (first, _) = sent(connection)
    assert connection.connection_lost(ConnectionResetError()) == [read]  # the append waits
    assert append.state is CallState.WAITING and connection.next_frame(append) is None
    reconnect(connection, clock)
    (again,) = sent(connection)
    assert again.call_id == first.call_id and again.append_request.streams[0].events[0].id == event_id
    assert append.state is CallState.OPEN and append.attempts == 2 and connection.calls_resent == 1
    reply = frame_pb2.Frame(call_id=append.call_id)
    reply.append_reply.streams.add(stream="s", positions=[5])
    connection.receive_data(encoded(reply) + encoded(status(append.call_id)))
    assert connection.next_frame(append).WhichOneof("body") == "append_reply"


def test_an_append_is_not_sent_again_when_the_client_says_so():
    clock = Clock()
    connection = ready(clock, retry_appends=False)
    append = connection.start(append_request(), resend=True)
    assert connection.connection_lost(ConnectionResetError()) == [append]
    with pytest.raises(logbook_client.Unavailable) as raised:
        connection.next_frame(append)
    assert raised.value.safe_to_retry  # the caller may send it again itself


def test_a_resent_append_asks_the_server_for_what_is_left_of_its_timeout():
    clock = Clock()
    connection = ready(clock)
    append = connection.start(append_request(timeout=5), resend=True)
    assert sent(connection)[0].timeout_ms == 5000
    clock.now += 2
    connection.connection_lost(ConnectionResetError())
    reconnect(connection, clock)
    (again,) = sent(connection)
    assert 2900 <= again.timeout_ms <= 3000 and append.state is CallState.OPEN


def test_calls_not_yet_sent_wait_for_the_next_socket_in_order():
    clock = Clock()
    connection = ready(clock)
    connection.connection_lost(ConnectionResetError())
    first, second = connection.start(read_request()), connection.start(calls.query("v").request)
    assert sent(connection) == [] and first.state is CallState.WAITING
    reconnect(connection, clock)
    assert [f.call_id for f in sent(connection)] == [first.call_id, second.call_id]


# --- how long calls wait ---------------------------------------------------------------------


def test_a_call_waits_up_to_its_timeout_else_the_reconnect_wait():
    clock = Clock()
    connection = ready(clock, reconnect_wait=30)
    connection.connection_lost(ConnectionResetError(104, "reset"))
    short = connection.start(calls.query("v", timeout=2).request)
    plain = connection.start(read_request())
    assert connection.wake_in() == 0.05  # the first attempt comes first
    clock.now += 1.99
    assert connection.expire() == []
    clock.now += 0.01
    assert connection.expire() == [short]
    with pytest.raises(logbook_client.Unavailable, match="could not be reached") as raised:
        connection.next_frame(short)
    assert raised.value.safe_to_retry  # it was never sent
    clock.now += 27.99
    assert connection.expire() == []
    clock.now += 0.01
    assert connection.expire() == [plain] and connection.calls == []


def test_without_a_reconnect_wait_a_call_without_timeout_waits_for_ever():
    clock = Clock()
    connection = ready(clock, reconnect_wait=None)
    connection.connection_lost(ConnectionResetError())
    call = connection.start(read_request())
    clock.now += 3600
    assert connection.expire() == [] and call.state is CallState.WAITING
    reconnect(connection, clock)
    assert call.state is CallState.OPEN


def test_a_report_about_an_old_socket_changes_nothing():
    clock = Clock()
    connection = ready(clock)
    old = connection.generation
    connection.connection_lost(ConnectionResetError())
    connection.start(read_request())
    reconnect(connection, clock)
    call = connection.start(read_request())
    assert connection.connection_lost(BrokenPipeError(), old) == []
    assert connection.status is Status.READY and call.state is CallState.OPEN


def test_closing_while_down_ends_the_waiting_calls():
    clock = Clock()
    connection = ready(clock)
    connection.connection_lost(ConnectionResetError())
    call = connection.start(read_request())
    assert connection.close() == [call]
    with pytest.raises(logbook_client.Unavailable, match="closed"):
        connection.next_frame(call)
    assert connection.reconnect_in() is None


def test_the_loss_and_the_reconnection_are_logged(caplog):
    clock = Clock()
    connection = ready(clock)
    with caplog.at_level(logging.INFO, logger="logbook_client"):
        connection.connection_lost(ConnectionResetError(104, "reset by peer"))
        connection.start(read_request())
        reconnect(connection, clock)
    messages = [record.getMessage() for record in caplog.records]
    assert "lost the connection" in messages[0] and "reset by peer" in messages[0]
    assert "reconnected" in messages[1] and "1 attempt" in messages[1] and "0.050 s" in messages[1]


# --- subscriptions resume --------------------------------------------------------------------


def caught_up(call_id: int, position: int) -> frame_pb2.Frame:
    return frame_pb2.Frame(call_id=call_id, caught_up={"position": position})


def lost(stream: calls.Stream, *, reached_server: bool = True) -> bool:
    return stream.ended(logbook_client.Unavailable(message="lost", safe_to_retry=True), reached_server=reached_server)


def test_a_catch_up_subscription_resumes_after_the_last_item_it_handed_out():
    stream = calls.subscribe("s", initial_credit=4)
    stream.receive(batch(1, 0, 1))
    stream.receive(caught_up(1, 2))
    assert [type(stream.next_item()).__name__ for _ in range(3)] == ["RecordedEvent", "RecordedEvent", "CaughtUp"]
    assert lost(stream) and not stream.done
    delay = stream.take_restart()
    assert 0.025 <= delay <= 0.05 and stream.take_restart() is None
    request = stream.request.subscribe_request
    assert request.catch_up.selector.stream == "s" and getattr(request.catch_up, "from").position == 2
    stream.receive(batch(2, 2))
    stream.receive(caught_up(2, 3))  # the new call's CaughtUp: the consumer knows it is live
    stream.receive(batch(2, 3))
    items = []
    while (item := stream.next_item()) is not None:
        items.append(item)
    assert [(type(i).__name__, i.position) for i in items] == [("RecordedEvent", 3), ("RecordedEvent", 4)]


def test_events_already_here_are_handed_out_before_the_resume_point_is_taken():
    stream = calls.subscribe(logbook_client.ALL)
    stream.receive(batch(1, 0, 1, 2))
    stream.next_item()
    # The iterator only hears of the loss once the buffer is empty.
    assert [stream.next_item().position for _ in range(2)] == [2, 3]
    assert lost(stream)
    assert getattr(stream.request.subscribe_request.catch_up, "from").position == 3


def test_a_subscription_that_fell_behind_reports_the_next_caught_up():
    stream = calls.subscribe(logbook_client.ALL)
    for frame in [caught_up(1, 2), frame_pb2.Frame(call_id=1, fell_behind={"position": 4})]:
        stream.receive(frame)
        stream.next_item()
    assert lost(stream)
    stream.take_restart()
    stream.receive(caught_up(2, 6))
    assert isinstance(stream.next_item(), logbook_client.CaughtUp) and stream.caught_up


def test_a_subscription_ended_with_ok_by_a_daemon_shutting_down_resumes():
    stream = calls.subscribe(logbook_client.ALL)
    stream.receive(status(1, 0))
    assert not stream.done and stream.take_restart() is not None


def test_a_subscription_stops_for_a_refusal_or_a_daemon_that_never_came_back():
    refused = calls.subscribe(logbook_client.ALL)
    with pytest.raises(logbook_client.PermissionDenied):
        refused.receive(status(1, logbook_client.Code.PERMISSION_DENIED, "no"))
    assert refused.done
    away = calls.subscribe(logbook_client.ALL)
    assert not lost(away, reached_server=False) and away.done


def test_resumes_back_off_until_something_arrives():
    stream = calls.subscribe(logbook_client.ALL)
    delays = []
    for _ in range(3):
        assert lost(stream)
        delays.append(stream.take_restart())
    assert delays[0] < delays[1] < delays[2] or delays[2] >= 0.1
    stream.receive(caught_up(4, 1))
    stream.next_item()
    assert lost(stream) and stream.take_restart() <= 0.05


def test_a_group_subscription_rejoins_and_drops_settlements_of_the_old_call():
    stream = calls.subscribe_group("g", initial_credit=4)
    first = batch(1, 0, 1)
    first.event_batch.deliveries.add(delivery_id=1, attempt=1)
    first.event_batch.deliveries.add(delivery_id=2, attempt=1)
    stream.receive(first)
    old = [stream.next_item().delivery_id for _ in range(2)]
    assert old == [1, 2]
    assert lost(stream)
    stream.take_restart()
    assert stream.request.subscribe_request.group == "g"
    again = batch(2, 0)
    again.event_batch.deliveries.add(delivery_id=1, attempt=2)  # a restarted daemon numbers from 1
    stream.receive(again)
    fresh = stream.next_item()
    assert fresh.delivery_id == 3 and fresh.attempt == 2
    assert stream.outgoing(calls.ack([1])) is None  # the old delivery 1 is not the new one
    assert stream.outgoing(calls.nack([2], "park")) is None
    out = stream.outgoing(calls.ack([3]))
    assert list(out.ack.delivery_ids) == [1]
    stream.receive(frame_pb2.Frame(call_id=2, settled={"delivery_ids": [1]}))
    settled = stream.next_item()
    assert isinstance(settled, logbook_client.Settled) and settled.delivery_ids == (3,)


def test_a_deleted_group_ends_its_subscription():
    stream = calls.subscribe_group("g")
    with pytest.raises(logbook_client.NotFound):
        stream.receive(status(1, logbook_client.Code.NOT_FOUND, "no group g"))
    assert stream.done


def test_a_daemon_ending_group_calls_with_unavailable_is_rejoined():
    stream = calls.subscribe_group("g")
    stream.receive(status(1, logbook_client.Code.UNAVAILABLE, "group settings changed"))
    assert not stream.done and stream.take_restart() is not None


def test_what_each_call_says_about_retries():
    assert calls.append("s", [logbook_client.EventData("T")]).resend
    assert calls.append_many([("s", [logbook_client.EventData("T")])]).resend
    assert not calls.query("v").resend and calls.query("v").safe_to_retry
    safe = {name: getattr(calls, name)(*args).safe_to_retry for name, args in [
        ("list_groups", ()), ("group_info", ("g",)), ("list_parked", ("g",)), ("list_views", ()), ("metrics", ()),
        ("create_group", (logbook_client.GroupSettings("g"),)), ("update_group", (logbook_client.GroupSettings("g"),)),
        ("delete_group", ("g",)), ("reset_group", ("g",)), ("replay_parked", ("g",)),
        ("define_view", ("v", "g")), ("drop_view", ("v",)),
    ]}  # fmt: skip
    assert {name for name, safe in safe.items() if safe} == {"list_groups", "group_info", "list_parked", "list_views", "metrics"}


def test_errors_keep_safe_to_retry_through_copies_and_pickling():
    import pickle

    error = logbook_client.Unavailable(message="x", safe_to_retry=True)
    assert error.copy().safe_to_retry and pickle.loads(pickle.dumps(error)).safe_to_retry
    assert not logbook_client.Unavailable(message="x").safe_to_retry
    assert P.status_error(status(1, logbook_client.Code.UNAVAILABLE).status).safe_to_retry is False


# --- a daemon that refuses calls while it shuts down -------------------------------------------


def test_an_append_refused_as_unavailable_is_sent_again_and_other_calls_say_they_are_safe():
    append = calls.append("s", [logbook_client.EventData("T")])
    with pytest.raises(logbook_client.Unavailable) as raised:
        append.receive(status(1, logbook_client.Code.UNAVAILABLE, "the server is shutting down"))
    assert raised.value.safe_to_retry
    delay = append.retry_after(raised.value, resend=True, waited=0.0, wait_max=30.0)
    assert delay is not None and 0.025 <= delay <= 0.05 and not append.done
    assert append.retry_after(raised.value, resend=True, waited=29.99, wait_max=30.0) is None  # out of time
    assert append.retry_after(raised.value, resend=False, waited=0.0, wait_max=30.0) is None  # retry_appends off
    change = calls.create_group(logbook_client.GroupSettings("g"))
    with pytest.raises(logbook_client.Unavailable) as raised:
        change.receive(status(1, logbook_client.Code.UNAVAILABLE, "the server is shutting down"))
    assert not raised.value.safe_to_retry
    assert change.retry_after(raised.value, resend=False, waited=0.0, wait_max=30.0) is None
    refused = logbook_client.NotFound(message="no", from_server=True)
    assert calls.append("s", [logbook_client.EventData("T")]).retry_after(refused, resend=True, waited=0, wait_max=None) is None


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_an_append_refused_by_a_daemon_shutting_down_is_answered_by_the_next_try(tmp_path, asynchronous):
    from rawwire import RawConnection, scripted_server

    requests = []

    def answer(raw: RawConnection) -> None:
        for code in (logbook_client.Code.UNAVAILABLE, logbook_client.Code.OK):
            request = raw.receive()
            requests.append(request)
            if code == logbook_client.Code.OK:
                reply = frame_pb2.Frame(call_id=request.call_id)
                reply.append_reply.streams.add(stream="s", positions=[7])
                raw.send(reply)
            raw.send(status(request.call_id, code, "the server is shutting down" if code else ""))

    path = str(tmp_path / "fake.sock")
    thread = scripted_server(path, answer)
    event = logbook_client.EventData("T")
    if asynchronous:
        import asyncio

        async def main():
            async with logbook_client.aio.Client(path) as client:
                return await client.append("s", [event])

        result = asyncio.run(main())
    else:
        with logbook_client.Client(path) as client:
            result = client.append("s", [event])
    thread.join(10)
    assert result.positions == (7,)
    assert [r.append_request.streams[0].events[0].id for r in requests] == [event.id.bytes] * 2
