"""The calls of the Logbook clients without I/O: each call's parameters, what it sends, and
how what comes back is read.

Each public function here is one method of both clients, `logbook_client.Client` and
`logbook_client.aio.Client` (and of their `Subscription`): its signature, defaults and docstring
are the method's. It returns what the call is, for a client to carry out:

| returns              | the call                                   | the client method returns |
| -------------------- | ------------------------------------------ | ------------------------- |
| `Unary[T]`           | one reply and a Status (Append, Query, Admin) | `T` (awaited in asyncio) |
| `ReadStream`         | a Read: EventBatch frames, then a Status   | an iterator of events     |
| `SubscriptionStream` | a Subscribe: events and markers, until cancelled | a `Subscription`    |
| `QueryPages`         | one Query per page, following the cursor   | an iterator of rows       |
| `Frame`              | a frame sent on an open Subscribe call     | None                      |

The state machines take the call's frames (`receive`) and say what the caller gets, what
it raises, and (subscriptions) how much Credit to grant; the clients only move bytes and
wait. `as_method` makes a client method of a function here.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import inspect
import random as _random
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Iterator, Sequence, TypeVar, Unpack, cast

from . import _protocol as P
from ._connection import Backoff
from ._tracing import append_span, end_span, trace_metadata
from .errors import Code, LogbookError
from .types import (
    ANY,
    AppendResult,
    CaughtUp,
    Delivery,
    EventData,
    Expected,
    FellBehind,
    GroupInfo,
    GroupSettings,
    ParkedEvent,
    Predicate,
    QueryResult,
    RecordedEvent,
    Row,
    Selector,
    Settled,
    StreamAppend,
    StreamInfo,
    ViewDefinition,
    ViewWrite,
    _PositionMarker,
)

if TYPE_CHECKING:
    from opentelemetry.trace import Span

T = TypeVar("T")
ItemT = TypeVar("ItemT")
F = TypeVar("F", bound=Callable[..., Any])

#: The window a catch-up subscription opens with: events in flight before the server waits.
CATCH_UP_CREDIT = 1000
#: The window of a group subscription: deliveries held unacknowledged at once.
GROUP_CREDIT = 100
#: Credit goes back to the server in parts of the window this large (a quarter).
CREDIT_PARTS = 4
#: The credit a read opens with: the server's read batch, so most reads send no Credit.
READ_CREDIT = 512
#: The most events a read lets the server send ahead of what its iterator handed out.
READ_CREDIT_EVENTS_MAX = 2048
#: The most bytes of events it lets the server send ahead, at the size of the last frame's
#: events: large events get fewer credits (the Swift client's `ReadCredit`).
READ_CREDIT_BYTES_MAX = 4 << 20


def as_method(method: F, build: Callable[..., Any]) -> F:
    """`method`, named and documented as `build`, with its parameters after `self` (for
    `help()` and `inspect.signature`)."""
    method.__name__ = build.__name__
    method.__qualname__ = build.__qualname__
    method.__doc__ = build.__doc__
    signature = inspect.signature(build)
    self = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    parameters = [self, *signature.parameters.values()]
    signature = signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty)
    setattr(method, "__signature__", signature)
    return method


# --- the state machines ------------------------------------------------------------------


class Unary(Generic[T]):
    """A call answered by one reply frame and a Status.

    Feed it the call's frames (`receive`) until `done`; then `result` is the answer. An
    error Status, or a frame the call does not expect, raises. `safe_to_retry` and `resend`
    say what a lost connection does to it (see `_connection`).
    """

    def __init__(
        self,
        request: P.Frame,
        reply_body: str,
        read: Callable[[P.Frame], T],
        *,
        safe_to_retry: bool = True,
        resend: bool = False,
        span: Span | None = None,
    ) -> None:
        self.request = request
        #: The call's trace span (an append's), ended when the call is over.
        self._span = span
        self.done = False
        #: Whether the call may be made again when a loss leaves its outcome unknown.
        self.safe_to_retry = safe_to_retry
        #: Whether a loss sends it again by itself (appends: same ids, same answer).
        self.resend = resend
        self._reply_body = reply_body
        self._read = read
        self._reply: P.Frame | None = None
        self._backoff = Backoff()
        self._retries = 0

    def receive(self, frame: P.Frame) -> None:
        body = frame.WhichOneof("body")
        if body == self._reply_body and self._reply is None:
            self._reply = frame
        elif body == "status":
            self.done = True
            if frame.status.code != int(Code.OK):
                error = P.status_error(frame.status)
                if error.code == Code.UNAVAILABLE:
                    # The daemon did not serve the call (it is shutting down, or its writer
                    # stopped): as safe to make again as the call is.
                    error.safe_to_retry = self.safe_to_retry
                raise error
            if self._reply is None:
                raise P.unexpected(frame, self._reply_body)
        else:
            raise P.unexpected(frame, f"{self._reply_body} or status")

    def retry_after(self, error: LogbookError, *, resend: bool, waited: float, wait_max: float | None) -> float | None:
        """After the daemon answered `error`: the wait before sending the same request
        again, or None to raise it. Only an append (`resend`) refused with UNAVAILABLE by a
        daemon that is shutting down is sent again (its event ids make that safe), after a
        jittered back-off, while `waited` stays within `wait_max` (its timeout, else the
        client's reconnect wait). A loss of the connection is the connection's to handle."""
        if not (resend and error.from_server and error.code == Code.UNAVAILABLE):
            return None
        delay = self._backoff.delay(self._retries, _random.random())
        if wait_max is not None and waited + delay > wait_max:
            return None
        self._retries += 1
        self.done = False
        self._reply = None
        return delay

    @contextlib.contextmanager
    def traced(self) -> Iterator[None]:
        """Runs the call's I/O: its span, if it has one, ends when it does, with any error
        that ends it (retries included)."""
        try:
            yield
        except BaseException as error:
            end_span(self._span, error)
            raise
        end_span(self._span, None)

    @property
    def result(self) -> T:
        if self._reply is None or not self.done:
            raise RuntimeError("the call has not answered yet")
        return self._read(self._reply)


class Stream(Generic[ItemT]):
    """A call that streams items until its Status: the state an iterator over it keeps.

    `next_item()` gives what the frames brought, in order; None when a frame must be
    waited for (`receive` it), or when the call is `done`. An error Status or a frame the
    call does not expect raises. `close()` ends it early (the client cancels the call).

    When the call ends, `ended` decides whether that ends the stream or a new call
    (`request`) starts after `take_restart()`'s wait: a read ends; a subscription resumes
    (`SubscriptionStream`).

    Both clients' iterators close the stream on any exception that ends a step, whatever
    its type: an interrupt (Ctrl-C, a cancelled task) leaves the call running on the
    server, and a protocol error leaves it in doubt, so the call is cancelled; after an
    error Status or a failed connection the call has ended, and `Connection.cancel` sends
    nothing.
    """

    safe_to_retry = True
    resend = False

    def __init__(self, request: P.Frame) -> None:
        self.request = request
        self.done = False
        self._items: collections.deque[ItemT] = collections.deque()

    def next_item(self) -> ItemT | None:
        while self._items:
            item = self._items.popleft()
            if self._took(item):
                return item
        return None

    def receive(self, frame: P.Frame) -> None:
        if frame.WhichOneof("body") == "status":
            error = P.status_error(frame.status) if frame.status.code != int(Code.OK) else None
            if error is not None and error.code == Code.UNAVAILABLE:
                error.safe_to_retry = self.safe_to_retry  # the daemon did not serve it (see Unary)
            if not self.ended(error, reached_server=True) and error is not None:
                raise error
        else:
            self._items.extend(self._read(frame))

    def ended(self, error: LogbookError | None, *, reached_server: bool) -> bool:
        """The call ended: with `error` (a Status, or a lost connection), or with OK (None).
        True when a new call resumes the stream (after `take_restart()`); False when the
        stream is done (and `error`, if any, is the caller's to raise).

        `reached_server` is False when the call was never sent: the daemon could not be
        reached within the wait, and that ends every stream."""
        self.done = True
        return False

    def take_restart(self) -> float | None:
        """The wait before the new call, once, after `ended` said True; else None."""
        return None

    def close(self) -> None:
        self.done = True
        self._items.clear()

    def credit_due(self) -> int:
        """How much Credit to grant now (reads and subscriptions)."""
        return 0

    def outgoing(self, frame: P.Frame) -> P.Frame | None:
        """A frame the user sends on the call (Credit, Ack, Nack) as it goes to the server;
        None when nothing is to go."""
        return frame

    def _read(self, frame: P.Frame) -> list[ItemT]:
        raise NotImplementedError

    def _took(self, item: ItemT) -> bool:
        """`item` is about to be handed out; False skips it."""
        return True


class ReadStream(Stream[RecordedEvent]):
    """A Read call, with its own flow control: it opens with `READ_CREDIT` and grants back
    what the iterator hands out, within `READ_CREDIT_EVENTS_MAX` events and
    `READ_CREDIT_BYTES_MAX` bytes. A reader that stops iterating holds that much at most."""

    def __init__(self, request: P.Frame) -> None:
        super().__init__(request)
        self._outstanding = request.read_request.initial_credit
        self._event_bytes = 1
        self._granted_back = 0

    def credit_due(self) -> int:
        if self.done or not self._granted_back:
            return 0
        count, self._granted_back = self._granted_back, 0
        return count

    def _read(self, frame: P.Frame) -> list[RecordedEvent]:
        if frame.WhichOneof("body") != "event_batch":
            raise P.unexpected(frame, "event_batch or status")
        events = frame.event_batch.events
        if events:
            self._event_bytes = max(1, frame.event_batch.ByteSize() // len(events))
        return [P.recorded_event(e) for e in events]

    def _took(self, item: RecordedEvent) -> bool:
        self._outstanding = max(0, self._outstanding - 1)
        window = min(READ_CREDIT_EVENTS_MAX, max(1, READ_CREDIT_BYTES_MAX // self._event_bytes))
        shortfall = window - self._outstanding
        # With nothing outstanding the server waits for this grant, however small.
        if shortfall > 0 and (self._outstanding == 0 or shortfall >= max(1, window // CREDIT_PARTS)):
            self._outstanding += shortfall
            self._granted_back += shortfall
        return True


class SubscriptionStream(Stream[P.SubscriptionItem]):
    """A Subscribe call, across the calls that resume it: its items, where it stands, the
    Credit it owes the server, and when to resume.

    Flow control: the call opens with `initial_credit`; as the user takes events, they are
    granted back a part of the window at a time, so the server never has more than the
    window in flight and a subscriber that stops taking events costs it nothing more.

    Resuming (as the Swift client's `SubscriptionStateMachine`): when the connection is lost
    or the daemon ends the call (UNAVAILABLE, or OK as it shuts down), a new call starts
    after a jittered back-off, once the items already here are handed out:

    - a catch-up subscription resumes after the position of the last item handed out, so
      the consumer sees no gap and no duplicate; a CaughtUp that repeats one already
      handed out (no FellBehind since) is not news and is skipped;
    - a group subscription joins the group again. The daemon numbers deliveries per call,
      so the ids handed out are the client's own (`delivery_id` is unique for the life of
      the subscription) and are translated on the way out; an ack or nack of a delivery of
      an earlier call sends nothing (that call's deliveries went back to the group and
      come again).

    Any other refusal (NOT_FOUND for a deleted group, a bad selector) ends it.
    """

    def __init__(self, request: P.Frame, *, backoff: Backoff = Backoff()) -> None:
        super().__init__(request)
        #: The last position seen, from an event or a marker; None before any.
        self.position: int | None = None
        #: Whether a CaughtUp came (and no FellBehind after it).
        self.caught_up = False
        #: Calls started so far (1 for the first).
        self.calls = 1
        self.is_group = request.subscribe_request.WhichOneof("target") == "group"
        self._part = max(1, request.subscribe_request.initial_credit // CREDIT_PARTS)
        self._taken = 0
        self._backoff = backoff
        self._failures = 0
        self._restart: float | None = None
        # Groups: the client's delivery ids ↔ the current call's.
        self._next_delivery = 1
        self._to_server: dict[int, int] = {}
        self._from_server: dict[int, int] = {}

    def credit_due(self) -> int:
        if self.done or self._taken < self._part:
            return 0
        count, self._taken = self._taken, 0
        return count

    def ended(self, error: LogbookError | None, *, reached_server: bool) -> bool:
        resumable = error is None or (error.code == Code.UNAVAILABLE and (reached_server or error.from_server))
        if self.done or not resumable:
            self.done = True
            return False
        self._restart = self._backoff.delay(self._failures, _random.random())
        self._failures += 1
        self._taken = 0
        self._to_server.clear()
        self._from_server.clear()
        if not self.is_group and self.position is not None:
            request = P.Frame()
            request.CopyFrom(self.request)
            getattr(request.subscribe_request.catch_up, "from").position = self.position
            self.request = request
        return True

    def take_restart(self) -> float | None:
        delay, self._restart = self._restart, None
        if delay is not None:
            self.calls += 1
        return delay

    def outgoing(self, frame: P.Frame) -> P.Frame | None:
        body = frame.WhichOneof("body")
        if not self.is_group or body not in ("ack", "nack"):
            return frame
        settlement = frame.ack if body == "ack" else frame.nack
        ids = list(settlement.delivery_ids)
        if any(i not in self._to_server for i in ids):
            return None  # a delivery of an earlier call: it comes again
        del settlement.delivery_ids[:]
        settlement.delivery_ids.extend(self._to_server[i] for i in ids)
        if body == "nack" and frame.nack.action == P.NACK_RETRY:
            for i in ids:  # a retry is not confirmed with Settled
                self._from_server.pop(self._to_server.pop(i), None)
        return frame

    def _read(self, frame: P.Frame) -> list[P.SubscriptionItem]:
        items = P.subscription_items(frame)
        if not self.is_group:
            return items
        mapped: list[P.SubscriptionItem] = []
        for item in items:
            if isinstance(item, Delivery):
                ours = self._next_delivery
                self._next_delivery += 1
                self._to_server[ours] = item.delivery_id
                self._from_server[item.delivery_id] = ours
                mapped.append(Delivery(item.event, ours, item.attempt))
            elif isinstance(item, Settled):
                settled = tuple(self._from_server[i] for i in item.delivery_ids if i in self._from_server)
                for i in settled:
                    self._from_server.pop(self._to_server.pop(i), None)
                if settled:
                    mapped.append(Settled(settled))
            else:
                mapped.append(item)
        return mapped

    def _took(self, item: P.SubscriptionItem) -> bool:
        if isinstance(item, (RecordedEvent, Delivery)):
            self.position = (item if isinstance(item, RecordedEvent) else item.event).position
            self._taken += 1
            self._failures = 0
        elif isinstance(item, _PositionMarker):
            self._failures = 0
            if isinstance(item, CaughtUp):
                if self.caught_up:
                    self.position = max(self.position or 0, item.position)
                    return False  # a reconnection's CaughtUp: the consumer knows already
                self.caught_up = True
            elif isinstance(item, FellBehind):
                self.caught_up = False
            self.position = item.position
        return True


class SubscriptionState:
    """What both clients' subscriptions show of where they are, read from their stream."""

    #: The subscription's `SubscriptionStream`; its iterator base class declares the type.
    _stream: Any

    @property
    def position(self) -> int | None:
        """The last position seen, from an event or a marker; None before any."""
        return cast(SubscriptionStream, self._stream).position

    @property
    def caught_up(self) -> bool:
        """Whether a CaughtUp came (and no FellBehind after it)."""
        return cast(SubscriptionStream, self._stream).caught_up

    @property
    def call_count(self) -> int:
        """Calls the subscription has made: 1, and one more each time it resumed (a
        projection that keeps state in memory reloads it when this changes)."""
        return cast(SubscriptionStream, self._stream).calls


class QueryPages:
    """The pages of one query: `next_page()` is the Query for the next page (None after
    the last); `rows(result)` takes that page's answer."""

    def __init__(self, view: str, options: dict[str, Any]) -> None:
        self._view = view
        self._options = options
        self._cursor: bytes | None = None
        self._done = False

    def next_page(self) -> Unary[QueryResult] | None:
        if self._done:
            return None
        return query(self._view, cursor=self._cursor, **self._options)

    def rows(self, page: QueryResult) -> tuple[Row, ...]:
        self._cursor = page.next_cursor
        self._done = page.next_cursor is None
        self._options.pop("min_position", None)  # only the first page waits
        return page.rows


# --- appends -----------------------------------------------------------------------------


def append(
    stream: str,
    events: Iterable[EventData],
    expected: Expected = ANY,
    *,
    timeout: float | None = None,
) -> Unary[AppendResult]:
    """Appends events to one stream; all or nothing.

    `expected`: ANY, NO_STREAM, STREAM_EXISTS or the stream's last revision. A mismatch
    raises WrongExpectedRevision (with the actual revision) and writes nothing.
    Retrying with the same events (same ids) is safe: it answers with the original
    revisions and positions; the client does so by itself when the connection is lost
    while the append is in flight. With OpenTelemetry installed, each event carries the
    active span's `traceparent` (and `tracestate`) in its metadata.
    """
    return _append([StreamAppend(stream, list(events), expected)], timeout, _first_append_result)


def append_many(
    appends: Iterable[StreamAppend | tuple[Any, ...]], *, timeout: float | None = None
) -> Unary[list[AppendResult]]:
    """Appends to several streams atomically: every expected revision is checked, and
    all commit or none. Each item is a StreamAppend or (stream, events[, expected])."""
    return _append(P.normalize_appends(appends), timeout, P.parse_append_reply)


def _append(appends: list[StreamAppend], timeout: float | None, read: Callable[[P.Frame], T]) -> Unary[T]:
    """An Append in its producer span, whose trace context the events carry."""
    span = append_span([append.stream for append in appends], [event for append in appends for event in append.events])
    frame = P.append_frame(0, appends, trace_metadata(span))
    return Unary(P.with_timeout(frame, timeout), "append_reply", read, resend=True, span=span)


def _first_append_result(frame: P.Frame) -> AppendResult:
    return P.parse_append_reply(frame)[0]


# --- reads and subscriptions -------------------------------------------------------------


def read(
    selector: Selector | str | None = None,
    *,
    backwards: bool = False,
    limit: int | None = None,
    as_of: int | None = None,
    timeout: float | None = None,
    as_of_time_unix_micros: int | None = None,
    **selection: Unpack[P.Selection],
) -> ReadStream:
    """Reads events: a stream (its name), logbook_client.ALL, or category=/event_type=/correlation_id=.

    Returns an iterator (`async for` with `logbook_client.aio`) that starts the read on first use
    and streams: events arrive in batches while you iterate. Stopping early (break,
    close(), or dropping the iterator) cancels the call on the server. A stream that does
    not exist reads as empty. `from_` is where to start (START, END, Revision(n),
    Position(n), or an int: a revision in a stream, a position otherwise); `filter`, or
    `event_types` and `stream_prefix`, keep only some events. `as_of` reads the log as it
    was when that was its last position, `as_of_time_unix_micros` as it was at that time.
    """
    frame = P.read_frame(0, selector, selection, backwards, limit, as_of, as_of_time_unix_micros)
    frame.read_request.initial_credit = READ_CREDIT
    return ReadStream(P.with_timeout(frame, timeout))


def subscribe(
    selector: Selector | str | None = None,
    *,
    initial_credit: int = CATCH_UP_CREDIT,
    **selection: Unpack[P.Selection],
) -> SubscriptionStream:
    """A catch-up subscription: yields RecordedEvent, then CaughtUp, then live events
    (FellBehind and Checkpoint markers as the server sends them). It takes the selector,
    `from_` and filters of `read`, and starts after `from_`."""
    return SubscriptionStream(P.subscribe_frame(0, selector, selection, initial_credit))


def subscribe_group(group: str, *, initial_credit: int = GROUP_CREDIT) -> SubscriptionStream:
    """Joins a persistent subscription group: yields Delivery items to ack or nack, and
    Settled once the server has recorded acks."""
    return SubscriptionStream(P.group_subscribe_frame(0, group, initial_credit))


def credit(count: int) -> P.Frame:
    """Grants the server `count` more events, beyond the automatic grants."""
    return P.credit_frame(0, count)


def ack(delivery_ids: Sequence[int], view_writes: Sequence[ViewWrite] = ()) -> P.Frame:
    """Persistent groups: these deliveries are done (with view writes applied in the same
    transaction)."""
    return P.ack_frame(0, delivery_ids, view_writes)


def nack(delivery_ids: Sequence[int], action: str = "retry", reason: str = "") -> P.Frame:
    """Persistent groups: `retry`, `park` or `skip` these deliveries."""
    return P.nack_frame(0, delivery_ids, action, reason)


# --- query -------------------------------------------------------------------------------


def query(
    view: str,
    *,
    key: str | None = None,
    key_prefix: str | None = None,
    where: Sequence[Predicate] = (),
    order_by: str | None = None,
    descending: bool = False,
    limit: int | None = None,
    cursor: bytes | None = None,
    min_position: int | None = None,
    wait: float | None = None,
    as_of_position: int | None = None,
    as_of_time_unix_micros: int | None = None,
    timeout: float | None = None,
) -> Unary[QueryResult]:
    """Queries a view (or $streams, $groups, $event_types, $stats).

    `min_position` waits (up to `wait` seconds) until the view has seen that position;
    `next_cursor` of the result, passed as `cursor`, reads the next page.
    """
    frame = P.query_frame(
        0, view, key, key_prefix, where, order_by, descending, limit, cursor,
        min_position, wait, as_of_position, as_of_time_unix_micros,
    )  # fmt: skip
    return Unary(P.with_timeout(frame, timeout), "query_reply", P.parse_query_reply)


def query_rows(view: str, **query: Any) -> QueryPages:
    """Every row of a query, page after page (following `next_cursor`); takes the
    arguments of `query` except `cursor`. Only the first page waits for `min_position`."""
    if "cursor" in query:
        raise TypeError("query_rows follows the cursors itself: give no cursor")
    return QueryPages(view, query)


# --- admin -------------------------------------------------------------------------------


#: The Admin requests that change nothing: made again after a lost connection, they do no harm.
_ADMIN_READS = frozenset(
    {"list_groups", "group_info", "list_parked", "list_views", "metrics", "get_stream_metadata"}
)


def _admin(timeout: float | None, read: Callable[[P.Frame], T], **op: Any) -> Unary[T]:
    """An Admin call: `op` is the one AdminRequest field it sets (a value, or a dict for a
    message), `read` takes its AdminReply. A change in flight when the connection is lost
    may or may not have happened: it is not safe to retry."""
    (name,) = op
    frame = P.with_timeout(P.Frame(admin_request=P.AdminRequest(**op)), timeout)
    return Unary(frame, "admin_reply", read, safe_to_retry=name in _ADMIN_READS)


def _nothing(frame: P.Frame) -> None:
    return None


def _group(frame: P.Frame) -> GroupInfo:
    group = P.admin_group(frame)
    if group is None:
        raise P.unexpected(frame, "an admin_reply with the group")
    return group


def create_group(settings: GroupSettings, *, timeout: float | None = None) -> Unary[GroupInfo | None]:
    """Creates a persistent subscription group (AlreadyExists if one of that name has
    other settings); 0 in a setting means the server's default."""
    return _admin(timeout, P.admin_group, create_group=P.group_settings_to_wire(settings))


def update_group(settings: GroupSettings, *, timeout: float | None = None) -> Unary[GroupInfo | None]:
    """Changes a group's settings (NotFound if there is none)."""
    return _admin(timeout, P.admin_group, update_group=P.group_settings_to_wire(settings))


def delete_group(name: str, *, timeout: float | None = None) -> Unary[None]:
    """Deletes a group (FailedPrecondition while a view is defined on it)."""
    return _admin(timeout, _nothing, delete_group=P.check_text("delete_group", name))


def list_groups(*, timeout: float | None = None) -> Unary[list[GroupInfo]]:
    """Every group, with its checkpoint, lag, consumers, in-flight and parked counts."""
    return _admin(timeout, P.admin_groups, list_groups={})


def group_info(name: str, *, timeout: float | None = None) -> Unary[GroupInfo]:
    """One group's settings and state (NotFound if there is none)."""
    return _admin(timeout, _group, group_info=P.check_text("group_info", name))


def reset_group(
    name: str, *, to_position: int = 0, clear_views: bool = False, timeout: float | None = None
) -> Unary[None]:
    """Moves a group's checkpoint back to `to_position` (0: the start), optionally clearing
    the views it writes, to rebuild them from the log."""
    reset = {
        "name": P.check_text("group name", name),
        "to_position": P.check_uint64("to_position", to_position),
        "clear_views": clear_views,
    }
    return _admin(timeout, _nothing, reset_group=reset)


def list_parked(
    group: str, *, after_position: int = 0, limit: int = 0, timeout: float | None = None
) -> Unary[list[ParkedEvent]]:
    """A group's parked events after `after_position`, at most `limit` (0: the server's
    page size)."""
    page = {
        "group": P.check_text("group", group),
        "after_position": P.check_uint64("after_position", after_position),
        "limit": limit,
    }
    return _admin(timeout, P.admin_parked, list_parked=page)


def replay_parked(group: str, *, timeout: float | None = None) -> Unary[None]:
    """Delivers a group's parked events again."""
    return _admin(timeout, _nothing, replay_parked=P.check_text("replay_parked", group))


def define_view(
    name: str, group: str, indexed_paths: Sequence[str] = (), *, timeout: float | None = None
) -> Unary[None]:
    """Defines a view written by `group`'s acks, with JSON paths to index for queries (the
    same definition again is fine; a different one is AlreadyExists)."""
    view = {
        "name": P.check_text("view name", name),
        "group": P.check_text("view group", group),
        "indexed_paths": [P.check_text(f"indexed_paths[{i}]", path) for i, path in enumerate(indexed_paths)],
    }
    return _admin(timeout, _nothing, define_view=view)


def drop_view(name: str, *, timeout: float | None = None) -> Unary[None]:
    """Drops a view and its documents (NotFound if there is none)."""
    return _admin(timeout, _nothing, drop_view=P.check_text("drop_view", name))


def list_views(*, timeout: float | None = None) -> Unary[list[ViewDefinition]]:
    """Every view's definition."""
    return _admin(timeout, P.admin_views, list_views={})


def metrics(*, timeout: float | None = None) -> Unary[str]:
    """The daemon's metrics in Prometheus's text format (what `--metrics-listen` serves)."""
    return _admin(timeout, P.admin_metrics, metrics={})


# --- stream lifecycle --------------------------------------------------------------------


def _stream_info(frame: P.Frame) -> StreamInfo:
    return P.admin_stream_info(frame)


def delete_stream(
    stream: str, expected: Expected = ANY, *, hard: bool = False, timeout: float | None = None
) -> Unary[StreamInfo]:
    """Deletes a stream if `expected` holds (else WrongExpectedRevision); returns its info.

    A soft delete hides its events: reads raise NotFound (`StreamDeletedNotFound`, with
    `hard` False), and $all, categories and groups skip them. An append with NO_STREAM or
    ANY recreates it, its revisions going on after the deleted ones (an old exact revision
    no longer matches). With `hard` the stream is tombstoned: appends, and deleting it
    again, raise FailedPrecondition (`StreamDeletedFailedPrecondition`, `hard` True).
    """
    if not isinstance(hard, bool):
        raise TypeError(f"hard must be a bool, not {type(hard).__name__}")
    delete = {"stream": P.check_text("stream", stream), "hard": hard}
    unary = _admin(timeout, _stream_info, delete_stream=delete)
    P.expected_to_wire(expected, unary.request.admin_request.delete_stream.expected)
    return unary


def set_stream_metadata(
    stream: str,
    *,
    max_count: int | None = None,
    max_age: float | datetime.timedelta | None = None,
    truncate_before: int | None = None,
    timeout: float | None = None,
) -> Unary[StreamInfo]:
    """Sets the bounds that hide a stream's older events, replacing the ones it had (None
    leaves a bound unset); events past them are hidden from reads, $all, categories and
    groups at once. Returns the stream's info.

    `max_count`: at most this many of the newest events stay visible (≥ 1). `max_age`:
    events older than this are hidden, in seconds (≥ 1; whole seconds, a fraction is
    dropped) or a `datetime.timedelta`. `truncate_before`: revisions below it are hidden
    (a deleted stream's stay hidden whatever it says). A value out of range raises
    InvalidArgument before anything is sent.
    """
    metadata = P.stream_metadata_to_wire(max_count, max_age, truncate_before)
    wire = {"stream": P.check_text("stream", stream), "metadata": metadata}
    return _admin(timeout, _stream_info, set_stream_metadata=wire)


def get_stream_metadata(stream: str, *, timeout: float | None = None) -> Unary[StreamInfo]:
    """A stream's info: its last revision (None if it never had an event), its bounds and
    whether it was deleted. A stream never written answers too (with no revision)."""
    return _admin(timeout, _stream_info, get_stream_metadata=P.check_text("stream", stream))
