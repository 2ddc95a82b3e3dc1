"""Pieces that need no daemon: ids, frames, errors."""

from __future__ import annotations

import datetime
import pickle
import struct
import time
import uuid

import pytest

import logbook_client
from logbook_client import _protocol as P
from logbook_client._pb.logbook.v1 import frame_pb2


def test_uuid7_layout_and_order():
    before = time.time_ns() // 1_000_000
    ids = [logbook_client.uuid7() for _ in range(5000)]
    after = time.time_ns() // 1_000_000
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for value in ids[:10]:
        assert value.version == 7 and value.variant == uuid.RFC_4122
        millis = int.from_bytes(value.bytes[:6], "big")
        # The time field may run ahead of the clock when a millisecond's counter runs out.
        assert before <= millis <= after + len(ids) // 2048 + 1


def test_frame_encoding_is_length_prefixed_big_endian():
    frame = P.hello_frame("me")
    data = P.encode_frame(frame)
    (length,) = struct.unpack(">I", data[:4])
    assert length == len(data) - 4
    decoded = P.decode_frame(data[4:])
    assert decoded.hello.protocol_version == 1 and decoded.hello.client_name == "me"
    assert decoded.call_id == 0


def test_incoming_length_is_checked_before_reading():
    with pytest.raises(logbook_client.Unavailable):
        P.decode_length(struct.pack(">I", 17), 16)
    assert P.decode_length(struct.pack(">I", 16), 16) == 16


def test_request_past_the_limit_is_refused():
    frame = P.append_frame(1, [logbook_client.StreamAppend("s", [logbook_client.EventData("T", b"x" * 100)])])
    with pytest.raises(logbook_client.ResourceExhausted) as raised:
        P.encode_frame(frame, 50)
    assert raised.value.details.max == 50


def test_timeout_travels_in_milliseconds():
    frame = P.with_timeout(P.append_frame(1, [logbook_client.StreamAppend("s", [logbook_client.EventData("T")])]), 1.5)
    assert frame.timeout_ms == 1500
    assert P.with_timeout(frame_pb2.Frame(), 0.0001).timeout_ms == 1


def test_metadata_is_sent_sorted():
    event = logbook_client.EventData("T", metadata={"b": "1", "a": "2", "c": "3"})
    frame = P.append_frame(1, [logbook_client.StreamAppend("s", [event])])
    assert [m.key for m in frame.append_request.streams[0].events[0].metadata] == ["a", "b", "c"]


def test_expected_revision_on_the_wire():
    for expected, kind, revision in [(logbook_client.ANY, 0, 0), (logbook_client.NO_STREAM, 1, 0),
                                     (logbook_client.STREAM_EXISTS, 2, 0), (7, 3, 7), (0, 3, 0)]:  # fmt: skip
        frame = P.append_frame(1, [logbook_client.StreamAppend("s", [logbook_client.EventData("T")], expected)])
        wire = frame.append_request.streams[0].expected
        assert (wire.kind, wire.revision) == (kind, revision)
        assert P.expected_from_wire(wire) == expected


def _status(code: int, **detail) -> frame_pb2.Frame:
    frame = frame_pb2.Frame(call_id=3)
    frame.status.code = code
    frame.status.message = "m"
    for name, values in detail.items():
        getattr(frame.status, name).CopyFrom(values)
    return frame.status


@pytest.mark.parametrize(
    "code,cls",
    [(1, logbook_client.Cancelled), (3, logbook_client.InvalidArgument), (4, logbook_client.DeadlineExceeded),
     (5, logbook_client.NotFound), (6, logbook_client.AlreadyExists), (7, logbook_client.PermissionDenied),
     (8, logbook_client.ResourceExhausted), (9, logbook_client.FailedPrecondition), (10, logbook_client.Aborted),
     (11, logbook_client.OutOfRange), (12, logbook_client.Unimplemented), (13, logbook_client.InternalError),
     (14, logbook_client.Unavailable), (15, logbook_client.DataLoss), (16, logbook_client.Unauthenticated),
     (2, logbook_client.UnknownError)],
)  # fmt: skip
def test_status_codes_map_to_exception_classes(code, cls):
    error = P.status_error(_status(code))
    assert type(error) is cls and error.code == code and error.from_server
    assert isinstance(error, logbook_client.LogbookError)
    assert str(error).startswith(logbook_client.Code(code).name)


def test_unknown_code_from_a_newer_server():
    error = P.status_error(_status(42))
    assert type(error) is logbook_client.LogbookError and error.code == 42
    assert "CODE_42" in str(error)


def test_wrong_expected_revision_detail():
    from logbook_client._pb.logbook.v1 import events_pb2

    wrong = frame_pb2.WrongExpectedRevision(
        stream="s", expected=events_pb2.ExpectedRevision(kind=events_pb2.EXPECTED_KIND_NO_STREAM),
        stream_exists=True, actual_revision=4,
    )  # fmt: skip
    error = P.status_error(_status(9, wrong_expected_revision=wrong))
    assert isinstance(error, logbook_client.WrongExpectedRevision)
    assert (error.stream, error.expected, error.actual) == ("s", logbook_client.NO_STREAM, 4)
    wrong.stream_exists = False
    wrong.actual_revision = 0
    assert P.status_error(_status(9, wrong_expected_revision=wrong)).actual is None


def test_stream_deleted_detail():
    deleted = frame_pb2.StreamDeleted(stream="s", hard=False)
    read = P.status_error(_status(5, stream_deleted=deleted))
    assert type(read) is logbook_client.StreamDeletedNotFound
    assert isinstance(read, logbook_client.NotFound) and isinstance(read, logbook_client.StreamDeleted)
    assert (read.stream, read.hard, read.details) == ("s", False, logbook_client.StreamDeletedDetail("s", False))
    deleted.hard = True
    append = P.status_error(_status(9, stream_deleted=deleted))
    assert type(append) is logbook_client.StreamDeletedFailedPrecondition
    assert isinstance(append, logbook_client.FailedPrecondition) and isinstance(append, logbook_client.StreamDeleted)
    assert (append.stream, append.hard) == ("s", True)
    # With another code, the detail rides on the code's own class.
    other = P.status_error(_status(13, stream_deleted=deleted))
    assert type(other) is logbook_client.InternalError
    assert other.details == logbook_client.StreamDeletedDetail("s", True)
    copy = pickle.loads(pickle.dumps(append))
    assert type(copy) is logbook_client.StreamDeletedFailedPrecondition and (copy.stream, copy.hard) == ("s", True)


def test_stream_lifecycle_requests():
    from logbook_client import _calls as calls
    from logbook_client._pb.logbook.v1 import admin_pb2, events_pb2

    request = calls.delete_stream("s", 4, hard=True).request.admin_request.delete_stream
    assert (request.stream, request.hard, request.expected.kind, request.expected.revision) == (
        "s", True, events_pb2.EXPECTED_KIND_EXACT, 4
    )  # fmt: skip
    unary = calls.set_stream_metadata("s", max_count=3, max_age=datetime.timedelta(hours=1, microseconds=5))
    assert unary.request.admin_request.set_stream_metadata.metadata == admin_pb2.StreamMetadata(
        max_count=3, max_age_seconds=3600
    )  # fmt: skip
    assert not unary.safe_to_retry  # a change: its effect is in doubt after a lost connection
    assert calls.get_stream_metadata("s").safe_to_retry
    reply = frame_pb2.Frame()
    reply.admin_reply.stream_info.CopyFrom(
        admin_pb2.StreamInfo(stream="s", metadata=admin_pb2.StreamMetadata(max_age_seconds=60), exists=False)
    )
    assert P.admin_stream_info(reply) == logbook_client.StreamInfo("s", None, None, 60.0, None, False, False)
    reply.admin_reply.done.SetInParent()
    with pytest.raises(logbook_client.Unavailable, match="protocol error"):
        P.admin_stream_info(reply)


def test_errors_pickle():
    error = logbook_client.WrongExpectedRevision(9, "m", logbook_client.WrongExpectedRevisionDetail("s", 3, 5), from_server=True)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is logbook_client.WrongExpectedRevision
    assert (copy.code, copy.message, copy.actual, copy.expected, copy.from_server) == (9, "m", 5, 3, True)
    assert pickle.loads(pickle.dumps(logbook_client.ANY)) is logbook_client.ANY


def test_json_content_types():
    assert logbook_client.is_json_content_type("application/json")
    assert logbook_client.is_json_content_type("Application/JSON; charset=utf-8")
    assert logbook_client.is_json_content_type("application/vnd.x+json")
    assert not logbook_client.is_json_content_type("text/plain")
    assert not logbook_client.is_json_content_type("+json")
