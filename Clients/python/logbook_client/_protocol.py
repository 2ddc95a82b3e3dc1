"""The wire protocol without I/O: frames, request building, reply parsing (DESIGN §3).

Each direction of a connection is a sequence of frames:

| bytes | meaning                                                |
| ----- | ------------------------------------------------------ |
| 0–3   | L, unsigned 32-bit big-endian: the length of what follows |
| 4…    | L bytes: one `logbook.v1.Frame`                        |

Both clients (`logbook_client.Client` and `logbook_client.aio.Client`) use these functions and only add
the socket I/O and the demultiplexing of calls by `call_id`.
"""

from __future__ import annotations

import datetime as _dt
import json
import struct
import uuid
from typing import Any, Iterable, Mapping, Sequence, TypedDict, Union

from google.protobuf.message import DecodeError, EncodeError

from ._tracing import with_trace
from ._pb.logbook.v1 import (
    admin_pb2,
    events_pb2,
    frame_pb2,
    query_pb2,
    subscribe_pb2,
)
from .errors import (
    BadFieldDetail,
    Code,
    Detail,
    EventIdConflictDetail,
    InvalidArgument,
    LimitExceededDetail,
    LogbookError,
    ResourceExhausted,
    StreamDeletedDetail,
    Unavailable,
    WrongExpectedRevisionDetail,
    error_for,
)
from .types import (
    ANY,
    END,
    NO_STREAM,
    OCTET_STREAM,
    START,
    STREAM_EXISTS,
    AppendResult,
    Checkpoint,
    CaughtUp,
    Delivery,
    EventData,
    Expected,
    ExpectedKind,
    FellBehind,
    Filter,
    From,
    GroupInfo,
    GroupSettings,
    Limits,
    ParkedEvent,
    Position,
    Predicate,
    QueryResult,
    RecordedEvent,
    Revision,
    Row,
    Selector,
    ServerInfo,
    Settled,
    StreamAppend,
    StreamInfo,
    ViewDefinition,
    ViewWrite,
)

Frame = frame_pb2.Frame
AdminRequest = admin_pb2.AdminRequest

#: What iterating a subscription yields.
SubscriptionItem = Union[RecordedEvent, Delivery, CaughtUp, FellBehind, Checkpoint, Settled]

PROTOCOL_VERSION = 1
HEADER = struct.Struct(">I")
#: What the client accepts from the server before the handshake says otherwise.
DEFAULT_FRAME_BYTES_MAX = 16 << 20
#: The client never accepts a frame larger than this, whatever the server announces.
INCOMING_FRAME_BYTES_CEILING = 1 << 30


# --- frames ------------------------------------------------------------------------------


def encode_frame(frame: Frame, frame_bytes_max: int | None = None) -> bytes:
    """The frame with its length prefix; refuses locally what the server would refuse
    (and answer with a connection-level Status that breaks every other call)."""
    try:
        payload = frame.SerializeToString()
    except (EncodeError, ValueError, UnicodeError) as error:
        raise InvalidArgument(message=f"request not sent: it cannot be encoded: {error}") from error
    if frame_bytes_max is not None and len(payload) > frame_bytes_max:
        raise ResourceExhausted(
            message=(
                f"request not sent: its frame would be {len(payload)} bytes, more than the "
                f"server's limit of {frame_bytes_max}"
            ),
            details=LimitExceededDetail("frame_bytes_max", len(payload), frame_bytes_max),
        )
    return HEADER.pack(len(payload)) + payload


def decode_length(header: bytes | bytearray, frame_bytes_max: int) -> int:
    length: int = HEADER.unpack(header)[0]
    if length > frame_bytes_max:
        raise Unavailable(
            message=f"the server sent a frame of {length} bytes, more than {frame_bytes_max}; connection closed",
            details=LimitExceededDetail("frame_bytes_max", length, frame_bytes_max),
        )
    return length


def decode_frame(payload: bytes) -> Frame:
    frame = Frame()
    try:
        frame.ParseFromString(payload)
    except DecodeError as error:
        raise Unavailable(message=f"the server sent a frame that does not decode: {error}") from error
    return frame


class FrameDecoder:
    """Cuts the bytes a connection receives into frames.

    A frame's declared length is checked as soon as its header is in, before its payload
    is waited for: a wrong length ends the connection instead of a huge buffer.
    """

    def __init__(self, frame_bytes_max: int = DEFAULT_FRAME_BYTES_MAX) -> None:
        #: The largest frame accepted; the handshake may raise it (`incoming_limit`).
        self.frame_bytes_max = frame_bytes_max
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_frame(self) -> Frame | None:
        """The next whole frame, or None until more bytes come; raises Unavailable for a
        frame that is too large or does not decode."""
        if len(self._buffer) < HEADER.size:
            return None
        length = decode_length(self._buffer[: HEADER.size], self.frame_bytes_max)
        end = HEADER.size + length
        if len(self._buffer) < end:
            return None
        payload = bytes(self._buffer[HEADER.size : end])
        del self._buffer[:end]
        return decode_frame(payload)


def hello_frame(client_name: str) -> Frame:
    check_text("client_name", client_name)
    frame = Frame(call_id=0)
    frame.hello.protocol_version = PROTOCOL_VERSION
    frame.hello.client_name = client_name
    return frame


def cancel_frame(call_id: int) -> Frame:
    frame = Frame(call_id=call_id)
    frame.cancel.SetInParent()
    return frame


def with_timeout(frame: Frame, timeout: float | None) -> Frame:
    if timeout is not None:
        if timeout <= 0:
            raise ValueError("timeout must be positive (seconds)")
        frame.timeout_ms = max(1, int(round(timeout * 1000)))
    return frame


def parse_hello_reply(frame: Frame) -> ServerInfo:
    body = frame.WhichOneof("body")
    if body == "status":
        raise status_error(frame.status)
    if body != "hello_reply" or frame.call_id != 0:
        raise Unavailable(message=f"the server answered Hello with {body or 'an empty frame'} on call {frame.call_id}")
    reply = frame.hello_reply
    limits = reply.limits
    return ServerInfo(
        server_version=reply.server_version,
        protocol_version=reply.protocol_version,
        limits=Limits(
            frame_bytes_max=limits.frame_bytes_max,
            events_per_append_max=limits.events_per_append_max,
            event_bytes_max=limits.event_bytes_max,
            open_calls_per_connection_max=limits.open_calls_per_connection_max,
            read_batch_events_max=limits.read_batch_events_max,
            stream_name_bytes_max=limits.stream_name_bytes_max,
        ),
        peer_uid=reply.peer_uid,
        peer_gid=reply.peer_gid,
        peer_pid=reply.peer_pid,
    )


def incoming_limit(info: ServerInfo | None) -> int:
    if info is None or info.limits.frame_bytes_max == 0:
        return DEFAULT_FRAME_BYTES_MAX
    return min(max(info.limits.frame_bytes_max, DEFAULT_FRAME_BYTES_MAX), INCOMING_FRAME_BYTES_CEILING)


def outgoing_limit(info: ServerInfo | None) -> int | None:
    if info is None or info.limits.frame_bytes_max == 0:
        return None
    return info.limits.frame_bytes_max


# --- status ------------------------------------------------------------------------------


def status_error(status: frame_pb2.Status) -> LogbookError:
    """The exception a non-OK Status stands for, with its typed detail."""
    detail: Detail | None = None
    which = status.WhichOneof("detail")
    if which == "wrong_expected_revision":
        wrong = status.wrong_expected_revision
        detail = WrongExpectedRevisionDetail(
            stream=wrong.stream,
            expected=expected_from_wire(wrong.expected),
            actual=wrong.actual_revision if wrong.stream_exists else None,
        )
    elif which == "event_id_conflict":
        conflict = status.event_id_conflict
        event_id = uuid.UUID(bytes=conflict.event_id) if len(conflict.event_id) == 16 else None
        detail = EventIdConflictDetail(event_id=event_id, stream=conflict.stream, revision=conflict.revision)
    elif which == "limit_exceeded":
        limit = status.limit_exceeded
        detail = LimitExceededDetail(limit=limit.limit, value=limit.value, max=limit.max)
    elif which == "bad_field":
        detail = BadFieldDetail(field=status.bad_field.field, reason=status.bad_field.reason)
    elif which == "stream_deleted":
        detail = StreamDeletedDetail(stream=status.stream_deleted.stream, hard=status.stream_deleted.hard)
    code = int(status.code)
    message = status.message or "the server refused the call"
    if code == Code.OK:  # an OK status is never an error; callers check first
        code = Code.UNKNOWN
    return error_for(code, message, detail, from_server=True)


# --- input checks ------------------------------------------------------------------------


def check_text(field: str, value: str) -> str:
    """`value`, if the daemon can carry it: its protobuf-c decoder treats strings as
    NUL-terminated C strings (DESIGN §2), so an embedded NUL would cut the text short."""
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a str, not {type(value).__name__}")
    if "\x00" in value:
        raise InvalidArgument(
            message=f"request not sent: {field} contains a NUL character",
            details=BadFieldDetail(field, "contains a NUL character"),
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidArgument(
            message=f"request not sent: {field} is not valid Unicode ({error.reason})",
            details=BadFieldDetail(field, "is not valid Unicode"),
        ) from None
    return value


def check_uint64(field: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{field} must be an int, not {type(value).__name__}")
    if not 0 <= value < 1 << 64:
        raise InvalidArgument(
            message=f"request not sent: {field} is {value}, outside 0…2⁶⁴−1",
            details=BadFieldDetail(field, "out of range"),
        )
    return value


# --- expected revision -------------------------------------------------------------------


def expected_to_wire(expected: Expected, target: events_pb2.ExpectedRevision, field: str = "expected") -> None:
    if isinstance(expected, ExpectedKind):
        target.kind = events_pb2.ExpectedKind.ValueType(expected.wire_kind)
        return
    if isinstance(expected, bool) or not isinstance(expected, int):
        raise TypeError(f"{field} must be ANY, NO_STREAM, STREAM_EXISTS or a revision (int), not {expected!r}")
    target.kind = events_pb2.EXPECTED_KIND_EXACT
    target.revision = check_uint64(field, expected)


def expected_from_wire(wire: events_pb2.ExpectedRevision) -> Expected:
    if wire.kind == events_pb2.EXPECTED_KIND_EXACT:
        revision: int = wire.revision
        return revision
    return {
        events_pb2.EXPECTED_KIND_ANY: ANY,
        events_pb2.EXPECTED_KIND_NO_STREAM: NO_STREAM,
        events_pb2.EXPECTED_KIND_STREAM_EXISTS: STREAM_EXISTS,
    }.get(wire.kind, ANY)


# --- append ------------------------------------------------------------------------------


def _event_to_wire(
    event: EventData, target: events_pb2.ProposedEvent, field: str, trace_context: Mapping[str, str]
) -> None:
    if not isinstance(event, EventData):
        raise TypeError(f"{field} must be a logbook_client.EventData, not {type(event).__name__}")
    if not isinstance(event.id, uuid.UUID):
        raise TypeError(f"{field}.id must be a uuid.UUID, not {type(event.id).__name__}")
    if not isinstance(event.data, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"{field}.data must be bytes, not {type(event.data).__name__} (use EventData.json for JSON values)"
        )
    check_text(f"{field}.type", event.type)
    check_text(f"{field}.content_type", event.content_type)
    target.id = event.id.bytes
    target.type = event.type
    target.data = bytes(event.data)
    target.content_type = event.content_type
    metadata = with_trace(event.metadata, trace_context)
    # Sorted by key, so that equal events encode equally (as the Swift client does).
    for key in sorted(metadata):
        value = metadata[key]
        check_text(f"{field}.metadata key", key)
        check_text(f"{field}.metadata[{key!r}]", value)
        target.metadata.add(key=key, value=value)
    if event.correlation_id is not None:
        check_text(f"{field}.correlation_id", event.correlation_id)
        target.correlation_id = event.correlation_id
    if event.causation_id is not None:
        check_text(f"{field}.causation_id", event.causation_id)
        target.causation_id = event.causation_id


def normalize_appends(appends: Iterable[StreamAppend | tuple[Any, ...]]) -> list[StreamAppend]:
    result = []
    for item in appends:
        if isinstance(item, StreamAppend):
            result.append(item)
        elif isinstance(item, tuple) and len(item) in (2, 3):
            result.append(StreamAppend(*item))
        else:
            raise TypeError("each append is a StreamAppend or a tuple (stream, events[, expected])")
    return result


def append_frame(
    call_id: int, appends: Sequence[StreamAppend], trace_context: Mapping[str, str] | None = None
) -> Frame:
    """An Append; `trace_context` (`traceparent`, `tracestate`) goes in each event's
    metadata that has none of its own."""
    frame = Frame(call_id=call_id)
    request = frame.append_request
    if not appends:
        raise ValueError("an append names at least one stream")
    for index, append in enumerate(appends):
        field = f"streams[{index}]"
        check_text(f"{field}.stream", append.stream)
        if isinstance(append.events, (EventData, str, bytes)):
            raise TypeError(f"{field}.events must be a sequence of EventData")
        wire = request.streams.add(stream=append.stream)
        expected_to_wire(append.expected, wire.expected, f"{field}.expected")
        for event_index, event in enumerate(append.events):
            _event_to_wire(event, wire.events.add(), f"{field}.events[{event_index}]", trace_context or {})
    return frame


def parse_append_reply(frame: Frame) -> list[AppendResult]:
    reply = frame.append_reply
    return [
        AppendResult(
            stream=result.stream,
            first_revision=result.first_revision,
            last_revision=result.last_revision,
            positions=tuple(result.positions),
            commit_time_unix_micros=reply.commit_time_unix_micros,
        )
        for result in reply.streams
    ]


# --- selectors, read ---------------------------------------------------------------------


def make_selector(
    selector: Selector | str | None,
    category: str | None,
    event_type: str | None,
    correlation_id: str | None,
) -> Selector:
    chosen = [
        s
        for s in (
            Selector.stream(selector) if isinstance(selector, str) else selector,
            Selector.category(category) if category is not None else None,
            Selector.event_type(event_type) if event_type is not None else None,
            Selector.correlation_id(correlation_id) if correlation_id is not None else None,
        )
        if s is not None
    ]
    if len(chosen) != 1:
        raise TypeError(
            "say what to read, once: a stream name, logbook_client.ALL, or one of category=, event_type=, correlation_id="
        )
    if not isinstance(chosen[0], Selector):
        raise TypeError(f"not a selector: {chosen[0]!r}")
    return chosen[0]


class Selection(TypedDict, total=False):
    """What a read or a catch-up subscription takes besides its selector (all optional).

    One of `category`, `event_type` or `correlation_id` stands in for the selector.
    `from_` is where to start: START, END, Revision(n), Position(n), or an int (a revision
    in a stream, a position otherwise). `filter`, or `event_types` and `stream_prefix`,
    keep only some events.
    """

    category: str | None
    event_type: str | None
    correlation_id: str | None
    from_: From | None
    filter: Filter | None
    event_types: Sequence[str] | None
    stream_prefix: str | None


def selection_to_wire(call: str, selector: Selector | str | None, selection: Selection, target: Any) -> None:
    """Fills the selector, start and filter of a request (`call` names it in errors)."""
    unknown = selection.keys() - Selection.__optional_keys__
    if unknown:
        raise TypeError(f"{call}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    chosen = make_selector(
        selector, selection.get("category"), selection.get("event_type"), selection.get("correlation_id")
    )
    selector_to_wire(chosen, target.selector)
    from_ = selection.get("from_")
    if from_ is not None:
        from_to_wire(from_, chosen, getattr(target, "from"))
    filter_to_wire(selection.get("filter"), selection.get("event_types"), selection.get("stream_prefix"), target)


def selector_to_wire(selector: Selector, target: events_pb2.Selector) -> None:
    if selector.kind == "all":
        target.all.SetInParent()
        return
    if selector.kind not in ("stream", "category", "event_type", "correlation_id"):
        raise ValueError(f"unknown selector kind {selector.kind!r}")
    check_text(f"selector.{selector.kind}", selector.value)
    setattr(target, selector.kind, selector.value)


def selector_from_wire(wire: events_pb2.Selector) -> Selector:
    kind = wire.WhichOneof("kind")
    if kind is None or kind == "all":
        return Selector.all()
    return Selector(kind, getattr(wire, kind))


def from_to_wire(from_: From, selector: Selector, target: events_pb2.StartFrom) -> None:
    if from_ is START:
        target.start.SetInParent()
    elif from_ is END:
        target.end.SetInParent()
    elif isinstance(from_, Revision):
        target.revision = check_uint64("from_", from_.value)
    elif isinstance(from_, Position):
        target.position = check_uint64("from_", from_.value)
    elif isinstance(from_, int) and not isinstance(from_, bool):
        # As `logbook read --from N`: a revision in a stream, a position elsewhere.
        if selector.kind == "stream":
            target.revision = check_uint64("from_", from_)
        else:
            target.position = check_uint64("from_", from_)
    else:
        raise TypeError(f"from_ must be START, END, Revision(n), Position(n) or an int, not {from_!r}")


def from_from_wire(wire: events_pb2.StartFrom) -> From | None:
    kind = wire.WhichOneof("kind")
    if kind == "start":
        return START
    if kind == "end":
        return END
    if kind == "revision":
        return Revision(wire.revision)
    if kind == "position":
        return Position(wire.position)
    return None


def filter_to_wire(
    filter: Filter | None, event_types: Sequence[str] | None, stream_prefix: str | None, target_parent: Any
) -> None:
    types = list(filter.event_types if filter else ()) + list(event_types or ())
    prefix = stream_prefix if stream_prefix is not None else (filter.stream_prefix if filter else "")
    if isinstance(event_types, str):
        raise TypeError("event_types is a sequence of type names, not one str")
    if not types and not prefix:
        return
    wire = target_parent.filter
    for index, name in enumerate(types):
        check_text(f"filter.event_types[{index}]", name)
        wire.event_types.append(name)
    check_text("filter.stream_prefix", prefix)
    wire.stream_prefix = prefix


def read_frame(
    call_id: int,
    selector: Selector | str | None,
    selection: Selection,
    backwards: bool,
    limit: int | None,
    as_of: int | None,
    as_of_time_unix_micros: int | None = None,
) -> Frame:
    frame = Frame(call_id=call_id)
    request = frame.read_request
    selection_to_wire("read", selector, selection, request)
    if backwards:
        request.direction = events_pb2.DIRECTION_BACKWARDS
    if limit is not None:
        if check_uint64("limit", limit) == 0:
            raise ValueError("limit must be positive (None reads everything)")
        request.max_count = limit
    if as_of is not None:
        if check_uint64("as_of", as_of) == 0:
            raise ValueError("as_of is a position ≥ 1 (None reads the log as it is)")
        request.as_of_position = as_of
    if as_of_time_unix_micros is not None:
        if as_of is not None:
            raise ValueError("give as_of or as_of_time_unix_micros, not both")
        if as_of_time_unix_micros <= 0:
            raise ValueError("as_of_time_unix_micros is a time after 1970 in microseconds")
        request.as_of_time_unix_micros = as_of_time_unix_micros
    return frame


def recorded_event(wire: events_pb2.RecordedEvent) -> RecordedEvent:
    if len(wire.id) != 16:
        raise Unavailable(
            message=f"the server sent event {wire.stream}@{wire.revision} with an id of {len(wire.id)} bytes, not 16"
        )
    return RecordedEvent(
        stream=wire.stream,
        revision=wire.revision,
        position=wire.position,
        id=uuid.UUID(bytes=wire.id),
        type=wire.type,
        data=wire.data,
        content_type=wire.content_type or OCTET_STREAM,
        metadata={entry.key: entry.value for entry in wire.metadata},
        correlation_id=wire.correlation_id or None,
        causation_id=wire.causation_id or None,
        time_unix_micros=wire.time_unix_micros,
    )


# --- subscribe ---------------------------------------------------------------------------


def subscribe_frame(call_id: int, selector: Selector | str | None, selection: Selection, initial_credit: int) -> Frame:
    """A catch-up Subscribe."""
    frame = Frame(call_id=call_id)
    selection_to_wire("subscribe", selector, selection, frame.subscribe_request.catch_up)
    return _with_initial_credit(frame, initial_credit)


def group_subscribe_frame(call_id: int, group: str, initial_credit: int) -> Frame:
    """A Subscribe that joins a persistent group."""
    frame = Frame(call_id=call_id)
    frame.subscribe_request.group = check_text("group", group)
    return _with_initial_credit(frame, initial_credit)


def _with_initial_credit(frame: Frame, initial_credit: int) -> Frame:
    if not 0 < initial_credit < 1 << 32:
        raise ValueError("initial_credit must be positive and fit in 32 bits (the server sends nothing without credit)")
    frame.subscribe_request.initial_credit = initial_credit
    return frame


def subscription_items(frame: Frame) -> list[SubscriptionItem]:
    """What a frame of an open Subscribe call holds for the subscriber."""
    body = frame.WhichOneof("body")
    if body == "event_batch":
        batch = frame.event_batch
        events = [recorded_event(e) for e in batch.events]
        if batch.deliveries:
            return [
                Delivery(event=event, delivery_id=d.delivery_id, attempt=d.attempt)
                for event, d in zip(events, batch.deliveries)
            ]
        return [*events]
    if body == "caught_up":
        return [CaughtUp(frame.caught_up.position)]
    if body == "fell_behind":
        return [FellBehind(frame.fell_behind.position)]
    if body == "checkpoint":
        return [Checkpoint(frame.checkpoint.position)]
    if body == "settled":
        return [Settled(tuple(frame.settled.delivery_ids))]
    return []


def credit_frame(call_id: int, count: int) -> Frame:
    frame = Frame(call_id=call_id)
    frame.credit.count = count
    return frame


def view_write_to_wire(write: ViewWrite, target: query_pb2.ViewWrite) -> None:
    check_text("view_write.view", write.view)
    check_text("view_write.key", write.key)
    target.view = write.view
    target.key = write.key
    ops = [write.put is not None, write.merge is not None, bool(write.remove)]
    if sum(ops) != 1:
        raise ValueError("a ViewWrite has exactly one of put, merge, remove")
    if write.put is not None:
        check_text("view_write.put", write.put)
        target.put = write.put
    elif write.merge is not None:
        check_text("view_write.merge", write.merge)
        target.merge = write.merge
    else:
        target.remove = True


def ack_frame(call_id: int, delivery_ids: Sequence[int], view_writes: Sequence[ViewWrite]) -> Frame:
    frame = Frame(call_id=call_id)
    ack = frame.ack
    ack.SetInParent()
    for delivery_id in delivery_ids:
        ack.delivery_ids.append(check_uint64("delivery_id", delivery_id))
    for write in view_writes:
        view_write_to_wire(write, ack.view_writes.add())
    return frame


#: The nack action that asks for the delivery again (the daemon confirms no Settled for it).
NACK_RETRY = subscribe_pb2.NACK_ACTION_RETRY

_NACK_ACTIONS = {
    "retry": subscribe_pb2.NACK_ACTION_RETRY,
    "park": subscribe_pb2.NACK_ACTION_PARK,
    "skip": subscribe_pb2.NACK_ACTION_SKIP,
}


def nack_frame(call_id: int, delivery_ids: Sequence[int], action: str, reason: str) -> Frame:
    if action not in _NACK_ACTIONS:
        raise ValueError("action is 'retry', 'park' or 'skip'")
    check_text("reason", reason)
    frame = Frame(call_id=call_id)
    nack = frame.nack
    nack.SetInParent()
    for delivery_id in delivery_ids:
        nack.delivery_ids.append(check_uint64("delivery_id", delivery_id))
    nack.action = _NACK_ACTIONS[action]
    nack.reason = reason
    return frame


# --- query -------------------------------------------------------------------------------

_PREDICATE_OPS = {
    "=": query_pb2.PREDICATE_OP_EQ,
    "==": query_pb2.PREDICATE_OP_EQ,
    "!=": query_pb2.PREDICATE_OP_NE,
    "<": query_pb2.PREDICATE_OP_LT,
    "<=": query_pb2.PREDICATE_OP_LE,
    ">": query_pb2.PREDICATE_OP_GT,
    ">=": query_pb2.PREDICATE_OP_GE,
    "prefix": query_pb2.PREDICATE_OP_PREFIX,
    "in": query_pb2.PREDICATE_OP_IN,
}


def query_frame(
    call_id: int,
    view: str,
    key: str | None,
    key_prefix: str | None,
    where: Sequence[Predicate],
    order_by: str | None,
    descending: bool,
    limit: int | None,
    cursor: bytes | None,
    min_position: int | None,
    wait: float | None,
    as_of_position: int | None,
    as_of_time_unix_micros: int | None,
) -> Frame:
    frame = Frame(call_id=call_id)
    request = frame.query_request
    check_text("view", view)
    request.view = view
    if key is not None and key_prefix is not None:
        raise TypeError("give key or key_prefix, not both")
    if key is not None:
        check_text("key", key)
        request.key = key
    if key_prefix is not None:
        check_text("key_prefix", key_prefix)
        request.key_prefix = key_prefix
    for index, predicate in enumerate(where):
        if predicate.op not in _PREDICATE_OPS:
            raise ValueError(f"unknown predicate operator {predicate.op!r}")
        check_text(f"where[{index}].path", predicate.path)
        wire = request.predicates.add(path=predicate.path, op=_PREDICATE_OPS[predicate.op])
        for value in predicate.values:
            wire.values.append(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    if order_by is not None:
        check_text("order_by", order_by)
        request.order_by = order_by
    request.descending = bool(descending)
    if limit is not None:
        request.limit = limit
    if cursor:
        request.cursor = bytes(cursor)
    if min_position is not None:
        request.min_position = check_uint64("min_position", min_position)
    if wait is not None:
        request.wait_ms = max(0, int(round(wait * 1000)))
    if as_of_position is not None:
        request.as_of_position = check_uint64("as_of_position", as_of_position)
    if as_of_time_unix_micros is not None:
        request.as_of_time_unix_micros = as_of_time_unix_micros
    return frame


def parse_query_reply(frame: Frame) -> QueryResult:
    reply = frame.query_reply
    return QueryResult(
        rows=tuple(Row(row.key, row.json) for row in reply.rows),
        as_of_position=reply.as_of_position,
        next_cursor=reply.next_cursor or None,
    )


# --- admin -------------------------------------------------------------------------------

_STRATEGIES = {
    "by_stream": admin_pb2.STRATEGY_BY_STREAM,
    "round_robin": admin_pb2.STRATEGY_ROUND_ROBIN,
    "single": admin_pb2.STRATEGY_SINGLE,
}
_STRATEGY_NAMES = {number: name for name, number in _STRATEGIES.items()}


def group_settings_to_wire(settings: GroupSettings) -> admin_pb2.GroupSettings:
    """The wire GroupSettings for `settings`."""
    target = admin_pb2.GroupSettings()
    check_text("group name", settings.name)
    target.name = settings.name
    selector_to_wire(settings.selector, target.selector)
    if settings.from_ is not None:
        from_to_wire(settings.from_, settings.selector, getattr(target, "from"))
    filter_to_wire(settings.filter, None, None, target)
    if settings.strategy not in _STRATEGIES:
        raise ValueError("strategy is 'by_stream', 'round_robin' or 'single'")
    target.strategy = _STRATEGIES[settings.strategy]
    target.max_in_flight = settings.max_in_flight
    target.ack_timeout_ms = settings.ack_timeout_ms
    target.max_deliveries = settings.max_deliveries
    target.retry_backoff_ms = settings.retry_backoff_ms
    return target


def group_settings_from_wire(wire: admin_pb2.GroupSettings) -> GroupSettings:
    filter = None
    if wire.HasField("filter"):
        filter = Filter(tuple(wire.filter.event_types), wire.filter.stream_prefix)
    return GroupSettings(
        name=wire.name,
        selector=selector_from_wire(wire.selector),
        from_=from_from_wire(getattr(wire, "from")),
        filter=filter,
        strategy=_STRATEGY_NAMES.get(wire.strategy, str(wire.strategy)),
        max_in_flight=wire.max_in_flight,
        ack_timeout_ms=wire.ack_timeout_ms,
        max_deliveries=wire.max_deliveries,
        retry_backoff_ms=wire.retry_backoff_ms,
    )


def group_info_from_wire(wire: admin_pb2.GroupInfo) -> GroupInfo:
    return GroupInfo(
        settings=group_settings_from_wire(wire.settings),
        checkpoint=wire.checkpoint,
        lag=wire.lag,
        consumers=wire.consumers,
        in_flight=wire.in_flight,
        parked=wire.parked,
    )


def admin_group(frame: Frame) -> GroupInfo | None:
    """The group an AdminReply carries, if any (create, update, info)."""
    reply = frame.admin_reply
    return group_info_from_wire(reply.group) if reply.HasField("group") else None


def admin_groups(frame: Frame) -> list[GroupInfo]:
    return [group_info_from_wire(g) for g in frame.admin_reply.groups.groups]


def admin_parked(frame: Frame) -> list[ParkedEvent]:
    return [
        ParkedEvent(
            event=recorded_event(p.event),
            reason=p.reason,
            attempts=p.attempts,
            parked_unix_micros=p.parked_unix_micros,
        )
        for p in frame.admin_reply.parked.events
    ]


def admin_views(frame: Frame) -> list[ViewDefinition]:
    return [ViewDefinition(v.name, v.group, tuple(v.indexed_paths)) for v in frame.admin_reply.views.views]


def admin_metrics(frame: Frame) -> str:
    return str(frame.admin_reply.metrics)


def stream_metadata_to_wire(
    max_count: int | None, max_age: float | _dt.timedelta | None, truncate_before: int | None
) -> admin_pb2.StreamMetadata:
    """The wire bounds (0: unset), refusing before sending what the server would: a
    `max_count` below 1, a `max_age` below one second (whole seconds go on the wire: a
    fraction is dropped, as the Swift client does), a negative `truncate_before`."""
    target = admin_pb2.StreamMetadata()
    if max_count is not None:
        if check_uint64("max_count", max_count) == 0:
            raise InvalidArgument(
                message="request not sent: max_count must be at least 1 (None for no bound)",
                details=BadFieldDetail("max_count", "must be at least 1"),
            )
        target.max_count = max_count
    if max_age is not None:
        if isinstance(max_age, _dt.timedelta):
            seconds = max_age.total_seconds()
        elif isinstance(max_age, (int, float)) and not isinstance(max_age, bool):
            seconds = max_age
        else:
            kind = type(max_age).__name__
            raise TypeError(f"max_age must be seconds (int or float) or a datetime.timedelta, not {kind}")
        if not 1 <= seconds < 1 << 64:  # NaN fails too
            raise InvalidArgument(
                message=f"request not sent: max_age is {seconds} seconds; it is at least 1 second (None for no bound)",
                details=BadFieldDetail("max_age", "must be at least 1 second"),
            )
        target.max_age_seconds = int(seconds)
    if truncate_before is not None:
        target.truncate_before = check_uint64("truncate_before", truncate_before)
    return target


def admin_stream_info(frame: Frame) -> StreamInfo:
    """The StreamInfo an AdminReply carries (delete_stream, set/get_stream_metadata)."""
    reply = frame.admin_reply
    if reply.WhichOneof("result") != "stream_info":
        raise unexpected(frame, "an admin_reply with the stream's info")
    info = reply.stream_info
    metadata = info.metadata
    return StreamInfo(
        stream=info.stream,
        last_revision=info.last_revision if info.exists else None,
        max_count=metadata.max_count or None,
        max_age=float(metadata.max_age_seconds) if metadata.max_age_seconds else None,
        truncate_before=metadata.truncate_before or None,
        deleted=info.deleted,
        tombstoned=info.tombstoned,
    )


# --- call bookkeeping --------------------------------------------------------------------


def unexpected(frame: Frame, wanted: str) -> LogbookError:
    return Unavailable(
        message=f"protocol error: the server sent {frame.WhichOneof('body') or 'an empty frame'} "
        f"on call {frame.call_id}, expected {wanted}"
    )


def connection_error(status: frame_pb2.Status) -> LogbookError:
    """The error for a Status on call 0: the server closes the connection after it."""
    error = status_error(status)
    error.message = f"the server closed the connection: {error.message}"
    return error
