"""The clients' I/O-free core without a socket: the connection's state machine (`_connection`)
and the calls' (`_calls`), fed frames by hand."""

from __future__ import annotations

import inspect

import pytest

import logbook_client
import logbook_client.aio
from logbook_client import _calls as calls
from logbook_client import _protocol as P
from logbook_client._connection import CallState, Connection
from logbook_client._pb.logbook.v1 import frame_pb2


def encoded(frame: frame_pb2.Frame) -> bytes:
    return P.encode_frame(frame)


def hello_reply(open_calls_max: int = 0, frame_bytes_max: int = 1 << 20) -> bytes:
    frame = frame_pb2.Frame(call_id=0)
    frame.hello_reply.protocol_version = 1
    frame.hello_reply.limits.frame_bytes_max = frame_bytes_max
    frame.hello_reply.limits.open_calls_per_connection_max = open_calls_max
    return encoded(frame)


def status(call_id: int, code: int = 0, message: str = "") -> frame_pb2.Frame:
    frame = frame_pb2.Frame(call_id=call_id)
    frame.status.code = code
    frame.status.message = message
    return frame


def batch(call_id: int, *revisions: int) -> frame_pb2.Frame:
    frame = frame_pb2.Frame(call_id=call_id)
    for revision in revisions:
        frame.event_batch.events.add(stream="s", revision=revision, position=revision + 1, id=bytes(16), type="T")
    return frame


def sent(connection: Connection) -> list[frame_pb2.Frame]:
    """The frames the connection queued for the socket."""
    decoder = P.FrameDecoder()
    decoder.feed(connection.data_to_send())
    frames = []
    while (frame := decoder.next_frame()) is not None:
        frames.append(frame)
    return frames


def connected(open_calls_max: int = 0) -> Connection:
    connection = Connection("me")
    connection.data_to_send()  # the Hello
    connection.receive_data(hello_reply(open_calls_max))
    assert connection.connected()
    return connection


def read_request() -> frame_pb2.Frame:
    return calls.read("s").request


# --- the connection ----------------------------------------------------------------------


def test_hello_goes_first_and_its_reply_sets_the_limits():
    connection = Connection("me")
    (hello,) = sent(connection)
    assert hello.hello.client_name == "me" and hello.hello.protocol_version == P.PROTOCOL_VERSION
    assert not connection.connected()
    reply = hello_reply(open_calls_max=7, frame_bytes_max=1000)
    assert connection.receive_data(reply[:3]) == [] and not connection.connected()
    connection.receive_data(reply[3:])
    assert connection.connected()
    assert connection.server_info.limits.open_calls_per_connection_max == 7
    assert connection.outgoing_frame_bytes_max == 1000


def test_a_refused_hello_fails_the_handshake():
    connection = Connection("me")
    connection.receive_data(encoded(status(0, logbook_client.Code.FAILED_PRECONDITION, "unsupported protocol version")))
    with pytest.raises(logbook_client.FailedPrecondition) as raised:
        connection.connected()
    assert raised.value.message == "unsupported protocol version"


def test_frames_go_to_their_calls_whatever_the_reads_cut():
    connection = connected()
    first, second = connection.start(read_request()), connection.start(read_request())
    assert [f.call_id for f in sent(connection)] == [first.call_id, second.call_id]
    data = encoded(batch(second.call_id, 0)) + encoded(batch(first.call_id, 5)) + encoded(status(second.call_id))
    news = []
    for index in range(len(data)):  # one byte at a time
        news += connection.receive_data(data[index : index + 1])
    assert news == [second, first, second]
    assert connection.next_frame(first).event_batch.events[0].revision == 5
    assert connection.next_frame(first) is None
    assert connection.next_frame(second).WhichOneof("body") == "event_batch"
    assert connection.next_frame(second).WhichOneof("body") == "status"
    assert second.state is CallState.ENDED and connection.calls == [first]


def test_calls_past_the_servers_limit_wait_their_turn_in_order():
    connection = connected(open_calls_max=2)
    one, two, three, four = (connection.start(read_request()) for _ in range(4))
    assert [f.call_id for f in sent(connection)] == [one.call_id, two.call_id]
    assert (three.state, four.state) == (CallState.WAITING, CallState.WAITING)
    connection.send_on(three, calls.credit(5))  # held back behind its request
    assert sent(connection) == []
    connection.receive_data(encoded(status(two.call_id)))
    frames = sent(connection)
    assert [(f.call_id, f.WhichOneof("body")) for f in frames] == [
        (three.call_id, "read_request"),
        (three.call_id, "credit"),
    ]
    assert three.state is CallState.OPEN and four.state is CallState.WAITING


def test_a_request_refused_before_sending_takes_no_slot():
    connection = connected(open_calls_max=1)
    connection.outgoing_frame_bytes_max = 50
    big = calls.append("s", [logbook_client.EventData("T", b"x" * 100)]).request
    for _ in range(3):
        with pytest.raises(logbook_client.ResourceExhausted):
            connection.start(big)
    assert connection.calls == [] and sent(connection) == []
    call = connection.start(read_request())
    assert call.state is CallState.OPEN


def test_cancel_tells_the_server_only_about_calls_it_runs():
    connection = connected(open_calls_max=1)
    running, waiting = connection.start(read_request()), connection.start(read_request())
    sent(connection)
    connection.cancel(waiting)
    assert sent(connection) == [] and waiting.state is CallState.ENDED  # it never went out
    connection.cancel(running)
    connection.cancel(running)  # twice is once
    assert [(f.call_id, f.WhichOneof("body")) for f in sent(connection)] == [(running.call_id, "cancel")]
    # The server still counts the call until its Status: so does the client.
    assert connection.calls == [running]
    connection.receive_data(encoded(batch(running.call_id, 1)) + encoded(status(running.call_id, 1)))
    assert not running.frames and connection.calls == []
    connection.cancel(running)  # ended: nothing to say
    assert sent(connection) == []


def test_a_failure_of_the_first_socket_ends_every_call_after_the_frames_that_came():
    connection = Connection("me")
    connection.data_to_send()
    waiting = connection.start(read_request())  # before the HelloReply: held back
    ended = connection.connection_lost(ConnectionResetError(104, "reset"))
    assert ended == [waiting]
    errors = []
    for _ in range(2):
        with pytest.raises(logbook_client.Unavailable) as raised:
            connection.next_frame(waiting)
        errors.append(raised.value)
    assert errors[0] is not errors[1]  # each raise is a copy of its own
    with pytest.raises(logbook_client.Unavailable):
        connection.start(read_request())
    assert connection.fail(logbook_client.InternalError(message="later")) == []  # the first failure stays
    assert sent(connection) == []


def test_a_status_on_call_zero_ends_the_calls_it_caught_with_its_error():
    connection = connected()
    call = connection.start(read_request())
    append = connection.start(calls.append("s", [logbook_client.EventData("T")]).request, resend=True)
    frame = status(0, logbook_client.Code.RESOURCE_EXHAUSTED, "too many open calls")
    assert connection.receive_data(encoded(frame)) == [call, append]  # not sent again: not a plain loss
    with pytest.raises(logbook_client.ResourceExhausted) as raised:
        connection.next_frame(call)
    assert raised.value.message == "the server closed the connection: too many open calls"
    assert not raised.value.safe_to_retry


def test_a_frame_past_the_limit_loses_the_socket_from_its_header():
    connection = connected()
    call = connection.start(read_request())
    connection.receive_data((1 << 30).to_bytes(4, "big"))  # the payload never needs to come
    with pytest.raises(logbook_client.Unavailable) as raised:
        connection.next_frame(call)
    assert isinstance(raised.value.details, logbook_client.LimitExceededDetail)


def test_the_server_closing_loses_the_socket():
    connection = connected()
    call = connection.start(read_request())
    connection.receive_data(b"")
    with pytest.raises(logbook_client.Unavailable, match="closed") as raised:
        connection.next_frame(call)
    assert raised.value.safe_to_retry


# --- unary calls -------------------------------------------------------------------------


def test_a_unary_call_answers_after_its_status():
    unary = calls.query("v")
    reply = frame_pb2.Frame(call_id=1)
    reply.query_reply.as_of_position = 9
    unary.receive(reply)
    assert not unary.done
    unary.receive(status(1))
    assert unary.done and unary.result.as_of_position == 9


def test_a_unary_call_raises_the_error_of_its_status():
    unary = calls.append("s", [logbook_client.EventData("T")])
    with pytest.raises(logbook_client.NotFound):
        unary.receive(status(1, logbook_client.Code.NOT_FOUND, "no"))
    assert unary.done


@pytest.mark.parametrize("frames", [["event_batch"], ["query_reply", "query_reply"], ["status"]])
def test_a_unary_call_refuses_what_it_does_not_expect(frames):
    unary = calls.query("v")
    with pytest.raises(logbook_client.Unavailable, match="protocol error"):
        for body in frames:
            frame = status(1) if body == "status" else frame_pb2.Frame(call_id=1)
            if body != "status":
                getattr(frame, body).SetInParent()
            unary.receive(frame)


# --- streams -----------------------------------------------------------------------------


def test_a_read_yields_its_batches_in_order_then_ends():
    stream = calls.read("s")
    assert stream.next_item() is None and not stream.done
    stream.receive(batch(1, 0, 1))
    stream.receive(batch(1, 2))
    stream.receive(status(1))
    assert [stream.next_item().revision for _ in range(3)] == [0, 1, 2]
    assert stream.next_item() is None and stream.done


def test_a_read_that_fails_raises_once_and_is_done():
    stream = calls.read("s")
    with pytest.raises(logbook_client.DeadlineExceeded):
        stream.receive(status(1, logbook_client.Code.DEADLINE_EXCEEDED))
    assert stream.done and stream.next_item() is None
    with pytest.raises(logbook_client.Unavailable, match="protocol error"):
        calls.read("s").receive(frame_pb2.Frame(call_id=1, caught_up={"position": 3}))


def test_a_read_opens_with_credit_and_grants_back_what_is_taken():
    stream = calls.read("s")
    assert stream.request.read_request.initial_credit == calls.READ_CREDIT == 512
    stream.receive(batch(1, *range(512)))
    stream.next_item()
    # Small events: the window grows to its most events at once.
    assert stream.credit_due() == calls.READ_CREDIT_EVENTS_MAX - 511 and stream.credit_due() == 0
    for _ in range(511):
        stream.next_item()
        assert stream.credit_due() == 0, "less than a quarter of the window is short"
    stream.receive(batch(1, 512))
    stream.next_item()
    assert stream.credit_due() == calls.READ_CREDIT_EVENTS_MAX // 4


def test_a_read_of_large_events_grants_fewer():
    stream = calls.read("s")
    frame = batch(1, 0, 1)
    for event in frame.event_batch.events:
        event.data = bytes((1 << 20) - 1024)  # ~1 MiB events: the window is 4 of them
    stream.receive(frame)
    granted = 0
    for _ in range(2):
        stream.next_item()
        granted += stream.credit_due()
    assert granted == 0, "510 are still outstanding"
    stream = calls.read("s")
    stream._outstanding = 1
    stream.receive(frame)
    stream.next_item()
    assert stream.credit_due() == 4


def test_a_subscription_grants_credit_as_events_are_taken():
    stream = calls.subscribe("s", initial_credit=8)  # granted back 2 at a time
    stream.receive(batch(1, 0, 1, 2))
    assert stream.credit_due() == 0
    stream.next_item()
    assert stream.credit_due() == 0
    stream.next_item()
    assert stream.credit_due() == 2 and stream.credit_due() == 0
    stream.next_item()
    stream.receive(frame_pb2.Frame(call_id=1, caught_up={"position": 3}))
    stream.next_item()  # markers are not events: they take no credit
    assert stream.credit_due() == 0 and stream.position == 3 and stream.caught_up


def test_a_subscription_follows_its_markers():
    stream = calls.subscribe(logbook_client.ALL)
    seen = []
    for frame in [
        frame_pb2.Frame(call_id=1, caught_up={"position": 4}),
        frame_pb2.Frame(call_id=1, checkpoint={"position": 6}),
        frame_pb2.Frame(call_id=1, fell_behind={"position": 7}),
        batch(1, 9),
    ]:
        stream.receive(frame)
        item = stream.next_item()
        seen.append((type(item).__name__, stream.position, stream.caught_up))
    assert seen == [
        ("CaughtUp", 4, True),
        ("Checkpoint", 6, True),
        ("FellBehind", 7, False),
        ("RecordedEvent", 10, False),
    ]


def test_a_group_subscription_yields_deliveries():
    stream = calls.subscribe_group("g", initial_credit=4)
    frame = batch(1, 0)
    frame.event_batch.deliveries.add(delivery_id=11, attempt=2)
    stream.receive(frame)
    delivery = stream.next_item()
    # The client's own delivery id, unique across the subscription's calls; the server's goes out.
    assert isinstance(delivery, logbook_client.Delivery) and (delivery.delivery_id, delivery.attempt) == (1, 2)
    assert stream.credit_due() == 1 and stream.position == 1
    assert list(stream.outgoing(calls.ack([1])).ack.delivery_ids) == [11]


def test_a_closed_stream_drops_what_it_holds():
    stream = calls.subscribe(logbook_client.ALL, initial_credit=4)
    stream.receive(batch(1, 0, 1, 2))
    stream.next_item()
    stream.close()
    assert stream.done and stream.next_item() is None and stream.credit_due() == 0


def test_query_pages_follow_the_cursor_and_only_the_first_waits():
    pages = calls.query_rows("v", min_position=5, wait=1.0, limit=2)
    first = pages.next_page()
    assert first.request.query_request.min_position == 5 and first.request.query_request.cursor == b""
    rows = (logbook_client.Row("a", "1"), logbook_client.Row("b", "2"))
    assert pages.rows(logbook_client.QueryResult(rows, 5, b"next")) == rows
    second = pages.next_page()
    assert second.request.query_request.cursor == b"next"
    assert second.request.query_request.min_position == 0 and second.request.query_request.limit == 2
    pages.rows(logbook_client.QueryResult((), 5, None))
    assert pages.next_page() is None
    with pytest.raises(TypeError):
        calls.query_rows("v", cursor=b"x")


# --- what the calls take -----------------------------------------------------------------


def test_selection_keywords_are_checked():
    with pytest.raises(TypeError, match="'categroy'"):
        calls.read("s", categroy="c")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="once"):
        calls.subscribe("s", category="c")
    request = calls.subscribe(category="c", event_types=["A"], stream_prefix="c-", from_=3).request
    catch_up = request.subscribe_request.catch_up
    assert (catch_up.selector.category, list(catch_up.filter.event_types), catch_up.filter.stream_prefix) == (
        "c", ["A"], "c-"
    )  # fmt: skip
    assert getattr(catch_up, "from").position == 3  # an int is a position outside a stream


@pytest.mark.parametrize("client", [logbook_client.Client, logbook_client.aio.Client])
def test_both_clients_show_the_parameters_and_docs_of_each_call(client):
    names = ["append", "read", "subscribe", "query", "query_rows", "reset_group", "delete_stream"]
    for name in [*names, "set_stream_metadata", "get_stream_metadata"]:
        method = getattr(client, name)
        build = getattr(calls, name)
        assert method.__doc__ == build.__doc__ and method.__name__ == name
        parameters = list(inspect.signature(method).parameters)
        assert parameters == ["self", *inspect.signature(build).parameters]
    assert list(inspect.signature(client.subscribe_group).parameters)[:2] == ["self", "group"]
    assert client.stream_info is client.get_stream_metadata
