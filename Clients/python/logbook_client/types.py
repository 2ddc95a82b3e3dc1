"""The values of the public API: events, selectors, positions, results."""

from __future__ import annotations

import builtins
import datetime as _dt
import json as _json
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, TypeVar, Union

from . import _dataclass_json
from ._uuid7 import uuid7

T = TypeVar("T")

__all__ = [
    "ExpectedKind",
    "ANY",
    "NO_STREAM",
    "STREAM_EXISTS",
    "Expected",
    "Selector",
    "ALL",
    "START",
    "END",
    "Revision",
    "Position",
    "From",
    "Filter",
    "EventData",
    "RecordedEvent",
    "StreamAppend",
    "AppendResult",
    "Limits",
    "ServerInfo",
    "Predicate",
    "Row",
    "QueryResult",
    "ViewWrite",
    "Delivery",
    "CaughtUp",
    "FellBehind",
    "Checkpoint",
    "Settled",
    "GroupSettings",
    "GroupInfo",
    "ParkedEvent",
    "ViewDefinition",
    "StreamInfo",
    "JSON_CONTENT_TYPE",
    "OCTET_STREAM",
    "is_json_content_type",
]

JSON_CONTENT_TYPE = "application/json"
OCTET_STREAM = "application/octet-stream"


def is_json_content_type(content_type: str) -> bool:
    """`application/json` or any `…/…+json`, parameters and case ignored (as the CLI)."""
    essence = content_type.split(";", 1)[0].strip(" \t").lower()
    return essence == JSON_CONTENT_TYPE or ("/" in essence and essence.endswith("+json"))


# --- expected revision -------------------------------------------------------------------


class ExpectedKind:
    """A symbolic expected revision; an exact one is a plain int."""

    __slots__ = ("name", "wire_kind")

    def __init__(self, name: str, wire_kind: int) -> None:
        self.name = name
        self.wire_kind = wire_kind

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> str:  # pickles as the module's constant of that name
        return self.name


#: Append whatever the stream's state.
ANY = ExpectedKind("ANY", 0)
#: The stream must not exist.
NO_STREAM = ExpectedKind("NO_STREAM", 1)
#: The stream must exist.
STREAM_EXISTS = ExpectedKind("STREAM_EXISTS", 2)

#: ANY, NO_STREAM, STREAM_EXISTS, or the stream's last revision (an int ≥ 0).
Expected = Union[ExpectedKind, int]


# --- what to read and where to start -----------------------------------------------------


@dataclass(frozen=True)
class Selector:
    """What a read or subscription covers: one kind, one value (none for $all)."""

    kind: str  # "stream" | "all" | "category" | "event_type" | "correlation_id"
    value: str = ""

    @classmethod
    def stream(cls, name: str) -> Selector:
        return cls("stream", name)

    @classmethod
    def all(cls) -> Selector:
        return cls("all")

    @classmethod
    def category(cls, name: str) -> Selector:
        return cls("category", name)

    @classmethod
    def event_type(cls, name: str) -> Selector:
        return cls("event_type", name)

    @classmethod
    def correlation_id(cls, value: str) -> Selector:
        return cls("correlation_id", value)


#: The whole log ($all).
ALL = Selector.all()


class _Bound:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> str:  # pickles as the module's constant of that name
        return self.name


#: The oldest event.
START = _Bound("START")
#: The newest event (or, for a subscription, only what comes next).
END = _Bound("END")


@dataclass(frozen=True)
class Revision:
    """A revision inside one stream (only for a stream selector)."""

    value: int


@dataclass(frozen=True)
class Position:
    """A position in the whole log."""

    value: int


#: START, END, Revision(n), Position(n), or an int: a revision when reading a stream,
#: a position otherwise (as `logbook read --from`).
From = Union[_Bound, Revision, Position, int]


@dataclass(frozen=True)
class Filter:
    """Keeps events whose type is one of `event_types` (all when empty) and whose stream
    name starts with `stream_prefix`."""

    event_types: tuple[str, ...] = ()
    stream_prefix: str = ""


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventData:
    """An event as a client proposes it for an append.

    `id` defaults to a new time-ordered UUIDv7; appending the same ids again to the same
    place is a no-op that answers with the original revisions, so a retry is safe.
    """

    type: str
    data: bytes = b""
    content_type: str = OCTET_STREAM
    metadata: Mapping[str, str] = field(default_factory=dict)
    correlation_id: str | None = None
    causation_id: str | None = None
    id: uuid.UUID = field(default_factory=uuid7)

    @classmethod
    def json(
        cls,
        type: str,
        value: Any,
        *,
        metadata: Mapping[str, str] | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        id: uuid.UUID | None = None,
    ) -> EventData:
        """An event whose payload is `value` as compact UTF-8 JSON (application/json);
        `value` may be a dataclass, or hold dataclasses (see `EventData.of`)."""
        data = _dataclass_json.encode(value)
        return cls(
            type=type,
            data=data,
            content_type=JSON_CONTENT_TYPE,
            metadata=dict(metadata or {}),
            correlation_id=correlation_id,
            causation_id=causation_id,
            id=id if id is not None else uuid7(),
        )


    @classmethod
    def of(
        cls,
        value: Any,
        *,
        type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        id: uuid.UUID | None = None,
    ) -> EventData:
        """An event made from a dataclass: its fields as JSON (application/json), its type
        the class's name unless `type` says otherwise. `RecordedEvent.decode` reads it back.

        >>> @dataclass
        ... class OrderPlaced:
        ...     order_id: uuid.UUID
        ...     total: Decimal
        >>> client.append("order-42", [EventData.of(OrderPlaced(order_id, Decimal("12.50")))])

        Nested dataclasses, lists, dicts, UUIDs, datetimes, Decimals and Enums are written
        as JSON values; see `logbook_client._dataclass_json`.
        """
        if not _dataclass_json.is_dataclass_instance(value):
            raise TypeError(f"EventData.of takes a dataclass instance, not {builtins.type(value).__name__}")
        return cls.json(
            type if type is not None else builtins.type(value).__name__,
            value,
            metadata=metadata,
            correlation_id=correlation_id,
            causation_id=causation_id,
            id=id,
        )


@dataclass(frozen=True)
class RecordedEvent:
    """An event as the log holds it."""

    stream: str
    revision: int
    position: int
    id: uuid.UUID
    type: str
    data: bytes
    #: `application/octet-stream` when the appender did not say.
    content_type: str
    metadata: Mapping[str, str]
    correlation_id: str | None
    causation_id: str | None
    #: Commit time, microseconds since the Unix epoch.
    time_unix_micros: int

    @property
    def time(self) -> _dt.datetime:
        """The commit time (UTC)."""
        epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        return epoch + _dt.timedelta(microseconds=self.time_unix_micros)

    @property
    def is_json(self) -> bool:
        return is_json_content_type(self.content_type)

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return _json.loads(self.data)

    def decode(self, cls: builtins.type[T]) -> T:
        """The payload as an instance of the dataclass `cls` (see `EventData.of`): a
        `ValueError` names the field that does not fit, or says the payload is not JSON."""
        try:
            value = _json.loads(self.data)
        except ValueError as error:
            raise ValueError(
                f"event {self.stream}@{self.revision} ({self.content_type}) is not JSON: {error}"
            ) from None
        return _dataclass_json.decode(cls, value)


@dataclass(frozen=True)
class StreamAppend:
    """One stream's part of an atomic multi-stream append."""

    stream: str
    events: Sequence[EventData]
    expected: Expected = ANY


@dataclass(frozen=True)
class AppendResult:
    stream: str
    first_revision: int
    last_revision: int
    #: The position of each event, in request order.
    positions: tuple[int, ...]
    #: Commit time, microseconds since the Unix epoch (0 if the server did not say).
    commit_time_unix_micros: int


@dataclass(frozen=True)
class Limits:
    frame_bytes_max: int
    events_per_append_max: int
    event_bytes_max: int
    open_calls_per_connection_max: int
    read_batch_events_max: int
    stream_name_bytes_max: int


@dataclass(frozen=True)
class ServerInfo:
    """What the daemon said in its HelloReply."""

    server_version: str
    protocol_version: int
    limits: Limits
    peer_uid: int
    peer_gid: int
    peer_pid: int


# --- query -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predicate:
    """A condition on a JSON path: op is one of = != < <= > >= prefix in; values are
    Python values sent as JSON literals (several only for `in`)."""

    path: str
    op: str
    values: tuple[Any, ...]

    def __init__(self, path: str, op: str, *values: Any) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "values", values)


@dataclass(frozen=True)
class Row:
    key: str
    #: The document as JSON text.
    json: str

    def value(self) -> Any:
        return _json.loads(self.json)


@dataclass(frozen=True)
class QueryResult:
    rows: tuple[Row, ...]
    as_of_position: int
    #: Pass as `cursor` for the next page; None when there is none.
    next_cursor: bytes | None


@dataclass(frozen=True)
class ViewWrite:
    """A view write carried by an Ack: exactly one of put (JSON text), merge (a JSON merge
    patch) or remove."""

    view: str
    key: str
    put: str | None = None
    merge: str | None = None
    remove: bool = False


# --- subscriptions -----------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """An event delivered by a persistent subscription group; ack or nack its id."""

    event: RecordedEvent
    delivery_id: int
    attempt: int


@dataclass(frozen=True)
class _PositionMarker:
    """A marker of a subscription that says where it stands in the log."""

    position: int


class CaughtUp(_PositionMarker):
    """History is exhausted; what follows is live."""


class FellBehind(_PositionMarker):
    """The subscriber fell behind the live feed and is read from disk again."""


class Checkpoint(_PositionMarker):
    """A filtered subscription has scanned every event up to this position."""


@dataclass(frozen=True)
class Settled:
    """Persistent groups: the server has durably recorded the settlement (ack, or nack
    skip/park) of these deliveries; none of them is delivered again, even after a crash."""

    delivery_ids: tuple[int, ...]


# --- admin -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSettings:
    name: str
    selector: Selector = ALL
    from_: From | None = None
    filter: Filter | None = None
    #: "by_stream" (default), "round_robin" or "single".
    strategy: str = "by_stream"
    max_in_flight: int = 0
    ack_timeout_ms: int = 0
    max_deliveries: int = 0
    retry_backoff_ms: int = 0


@dataclass(frozen=True)
class GroupInfo:
    settings: GroupSettings
    checkpoint: int
    lag: int
    consumers: int
    in_flight: int
    parked: int


@dataclass(frozen=True)
class ParkedEvent:
    event: RecordedEvent
    reason: str
    attempts: int
    parked_unix_micros: int


@dataclass(frozen=True)
class ViewDefinition:
    name: str
    group: str
    indexed_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class StreamInfo:
    """A stream's lifecycle, as `delete_stream`, `set_stream_metadata` and
    `get_stream_metadata` answer it: its last revision, the bounds that hide its older
    events (None: unset), and whether it was deleted."""

    stream: str
    #: The last revision it was given; None if it never had an event. A deleted stream
    #: keeps it: its revisions go on from there when an append recreates it.
    last_revision: int | None
    #: At most this many of the newest events are visible.
    max_count: int | None
    #: Events older than this many seconds are hidden.
    max_age: float | None
    #: Revisions below this are hidden.
    truncate_before: int | None
    #: Soft-deleted: reads raise NotFound (`StreamDeletedNotFound`) until an append
    #: (ANY or NO_STREAM) recreates it.
    deleted: bool
    #: Deleted for good: appends raise FailedPrecondition (`StreamDeletedFailedPrecondition`).
    tombstoned: bool

    @property
    def exists(self) -> bool:
        """Whether the stream ever had an event."""
        return self.last_revision is not None
