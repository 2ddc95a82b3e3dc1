"""The synchronous client: `logbook.Client`.

One Unix-socket connection, shared safely by any number of threads, with many calls open at
once (an open read does not block an append). No background thread: a thread that waits for
its call's next frame reads the socket itself while no other thread does, and hands frames
of other calls to their buffers (leader/follower). A single-threaded program thus pays no
thread hand-off per call.
"""

from __future__ import annotations

import collections
import itertools
import os
import socket
import threading
from typing import Any, Callable, Iterable, Iterator, Sequence

from . import _protocol as P
from .errors import Code, LogbookError, Unavailable
from .types import (
    ANY,
    AppendResult,
    CaughtUp,
    Checkpoint,
    Delivery,
    EventData,
    Expected,
    FellBehind,
    Filter,
    From,
    GroupInfo,
    GroupSettings,
    ParkedEvent,
    Predicate,
    QueryResult,
    Row,
    RecordedEvent,
    Selector,
    ServerInfo,
    StreamAppend,
    ViewDefinition,
    ViewWrite,
)

__all__ = ["Client", "ReadIterator", "Subscription", "default_socket_path"]

DEFAULT_SOCKET = "./logbook.sock"


def default_socket_path() -> str:
    """`$LOGBOOK_SOCKET`, else `./logbook.sock` (as the CLI)."""
    return os.environ.get("LOGBOOK_SOCKET") or DEFAULT_SOCKET


def _copy(error: LogbookError) -> LogbookError:
    """A fresh exception for each call that a shared failure ends."""
    return type(error)(error.code, error.message, error.details, from_server=error.from_server)


class _Call:
    __slots__ = ("call_id", "frames", "finished", "abandoned")

    def __init__(self, call_id: int) -> None:
        self.call_id = call_id
        self.frames: collections.deque[P.Frame] = collections.deque()
        self.finished = False  # its Status has arrived
        self.abandoned = False  # cancelled by the client: its frames are dropped


class Client:
    """A connection to logbookd.

    >>> with logbook.Client("/run/logbook.sock") as client:
    ...     client.append("order-42", [EventData.json("OrderPlaced", {"total": 10})], expected=NO_STREAM)
    ...     for event in client.read("order-42"):
    ...         print(event.revision, event.type, event.json())
    """

    def __init__(
        self,
        socket_path: str | os.PathLike[str] | None = None,
        *,
        client_name: str = "logbook-python",
        connect_timeout: float | None = 10.0,
    ) -> None:
        self.socket_path = os.fspath(socket_path) if socket_path is not None else default_socket_path()
        self._cond = threading.Condition(threading.Lock())
        self._write_lock = threading.Lock()
        self._calls: dict[int, _Call] = {}
        self._ids = itertools.count(1)
        self._reading = False
        self._error: LogbookError | None = None
        self._incoming_max = P.DEFAULT_FRAME_BYTES_MAX
        self._outgoing_max: int | None = None
        hello = P.encode_frame(P.hello_frame(client_name))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(connect_timeout)
            sock.connect(self.socket_path)
            sock.sendall(hello)
            self._sock = sock
            frame = self._read_frame()
            sock.settimeout(None)
        except OSError as error:
            sock.close()
            raise Unavailable(message=f"cannot reach logbookd at {self.socket_path}: {error}") from error
        except LogbookError:
            sock.close()
            raise
        try:
            self.server_info: ServerInfo = P.parse_hello_reply(frame)
        except LogbookError:
            sock.close()
            raise
        self._incoming_max = P.incoming_limit(self.server_info)
        self._outgoing_max = P.outgoing_limit(self.server_info)

    # --- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Closes the connection; open calls fail with Unavailable."""
        with self._cond:
            if self._error is None:
                self._error = Unavailable(message="the client is closed")
            self._cond.notify_all()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()

    @property
    def closed(self) -> bool:
        return self._error is not None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # --- appends -------------------------------------------------------------------------

    def append(
        self,
        stream: str,
        events: Iterable[EventData],
        expected: Expected = ANY,
        *,
        timeout: float | None = None,
    ) -> AppendResult:
        """Appends events to one stream; all or nothing.

        `expected`: ANY, NO_STREAM, STREAM_EXISTS or the stream's last revision. A mismatch
        raises WrongExpectedRevision (with the actual revision) and writes nothing.
        Retrying with the same events (same ids) is safe: it answers with the original
        revisions and positions.
        """
        return self.append_many([StreamAppend(stream, list(events), expected)], timeout=timeout)[0]

    def append_many(
        self, appends: Iterable[StreamAppend | tuple], *, timeout: float | None = None
    ) -> list[AppendResult]:
        """Appends to several streams atomically: every expected revision is checked, and
        all commit or none. Each item is a StreamAppend or (stream, events[, expected])."""
        frame = P.append_frame(0, P.normalize_appends(appends))
        reply = self._unary(P.with_timeout(frame, timeout), "append_reply")
        return P.parse_append_reply(reply)

    # --- reads ---------------------------------------------------------------------------

    def read(
        self,
        selector: Selector | str | None = None,
        *,
        category: str | None = None,
        event_type: str | None = None,
        correlation_id: str | None = None,
        from_: From | None = None,
        backwards: bool = False,
        limit: int | None = None,
        as_of: int | None = None,
        filter: Filter | None = None,
        event_types: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        timeout: float | None = None,
        as_of_time_unix_micros: int | None = None,
    ) -> ReadIterator:
        """Reads events: a stream (its name), logbook.ALL, or category=/event_type=/correlation_id=.

        Returns an iterator that starts the read on first use and streams: events arrive in
        batches while you iterate. Stopping early (break, close(), or dropping the
        iterator) cancels the call on the server. A stream that does not exist reads as
        empty. `from_` is where to start (START, END, Revision(n), Position(n), or an int:
        a revision in a stream, a position otherwise); `as_of` reads the log as it was
        when that was its last position, `as_of_time_unix_micros` as it was at that time.
        """
        chosen = P.make_selector(selector, category, event_type, correlation_id)
        frame = P.read_frame(
            0, chosen, from_, backwards, limit, as_of, filter, event_types, stream_prefix, as_of_time_unix_micros
        )
        return ReadIterator(self, P.with_timeout(frame, timeout))

    # --- subscriptions -------------------------------------------------------------------

    def subscribe(
        self,
        selector: Selector | str | None = None,
        *,
        category: str | None = None,
        event_type: str | None = None,
        correlation_id: str | None = None,
        from_: From | None = None,
        filter: Filter | None = None,
        event_types: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        initial_credit: int = 1000,
    ) -> Subscription:
        """A catch-up subscription: yields RecordedEvent, then CaughtUp, then live events
        (FellBehind and Checkpoint markers as the server sends them)."""
        chosen = P.make_selector(selector, category, event_type, correlation_id)
        frame = P.subscribe_frame(0, chosen, None, from_, filter, event_types, stream_prefix, initial_credit)
        return Subscription(self, frame)

    def subscribe_group(self, group: str, *, initial_credit: int = 100) -> Subscription:
        """Joins a persistent subscription group: yields Delivery items to ack or nack."""
        frame = P.subscribe_frame(0, None, group, None, None, None, None, initial_credit)
        return Subscription(self, frame)

    # --- query ---------------------------------------------------------------------------

    def query(
        self,
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
    ) -> QueryResult:
        """Queries a view (or $streams, $groups, $event_types, $stats)."""
        frame = P.query_frame(
            0, view, key, key_prefix, where, order_by, descending, limit, cursor,
            min_position, wait, as_of_position, as_of_time_unix_micros,
        )  # fmt: skip
        return P.parse_query_reply(self._unary(P.with_timeout(frame, timeout), "query_reply"))

    def query_rows(self, view: str, **query: Any) -> Iterator[Row]:
        """Every row of a query, page after page (following `next_cursor`); takes the
        arguments of `query` except `cursor`. Only the first page waits for `min_position`."""
        cursor = None
        while True:
            page = self.query(view, cursor=cursor, **query)
            yield from page.rows
            if page.next_cursor is None:
                return
            cursor = page.next_cursor
            query.pop("min_position", None)

    # --- admin ---------------------------------------------------------------------------

    def _admin(self, op: str, value: Any = None, timeout: float | None = None) -> Any:
        frame = P.with_timeout(P.admin_frame(0, op, value), timeout)
        return P.parse_admin_reply(self._unary(frame, "admin_reply"))

    def create_group(self, settings: GroupSettings, *, timeout: float | None = None) -> GroupInfo | None:
        return self._admin("create_group", settings, timeout)

    def update_group(self, settings: GroupSettings, *, timeout: float | None = None) -> GroupInfo | None:
        return self._admin("update_group", settings, timeout)

    def delete_group(self, name: str, *, timeout: float | None = None) -> None:
        self._admin("delete_group", name, timeout)

    def list_groups(self, *, timeout: float | None = None) -> list[GroupInfo]:
        return self._admin("list_groups", None, timeout) or []

    def group_info(self, name: str, *, timeout: float | None = None) -> GroupInfo:
        return self._admin("group_info", name, timeout)

    def reset_group(
        self, name: str, *, to_position: int = 0, clear_views: bool = False, timeout: float | None = None
    ) -> None:
        self._admin("reset_group", (name, to_position, clear_views), timeout)

    def list_parked(
        self, group: str, *, after_position: int = 0, limit: int = 0, timeout: float | None = None
    ) -> list[ParkedEvent]:
        return self._admin("list_parked", (group, after_position, limit), timeout) or []

    def replay_parked(self, group: str, *, timeout: float | None = None) -> None:
        self._admin("replay_parked", group, timeout)

    def define_view(
        self, name: str, group: str, indexed_paths: Sequence[str] = (), *, timeout: float | None = None
    ) -> None:
        self._admin("define_view", ViewDefinition(name, group, tuple(indexed_paths)), timeout)

    def drop_view(self, name: str, *, timeout: float | None = None) -> None:
        self._admin("drop_view", name, timeout)

    def list_views(self, *, timeout: float | None = None) -> list[ViewDefinition]:
        return self._admin("list_views", None, timeout) or []

    def delete_stream(self, stream: str, expected: Expected = ANY, *, timeout: float | None = None) -> None:
        self._admin("delete_stream", (stream, expected), timeout)

    # --- calls ---------------------------------------------------------------------------

    def _unary(self, frame: P.Frame, reply_body: str) -> P.Frame:
        call = self._start(frame)
        reply = None
        while True:
            frame = self._next(call)
            body = frame.WhichOneof("body")
            if body == reply_body and reply is None:
                reply = frame
            elif body == "status":
                if frame.status.code != Code.OK:
                    raise P.status_error(frame.status)
                if reply is None:
                    raise P.unexpected(frame, reply_body)
                return reply
            else:
                self._cancel(call)
                raise P.unexpected(frame, f"{reply_body} or status")

    def _start(self, frame: P.Frame) -> _Call:
        """Registers a call and sends its request frame (checked before anything is sent).

        Waits while the connection has as many open calls as the server allows
        (`open_calls_per_connection_max`): past it the server would refuse the call.
        """
        call = _Call(0)

        def register() -> _Call:
            call.call_id = next(self._ids)
            self._calls[call.call_id] = call
            return call

        limit = self.server_info.limits.open_calls_per_connection_max or None
        self._wait_until(lambda: limit is None or len(self._calls) < limit, register)
        try:
            frame.call_id = call.call_id
            self._send(P.encode_frame(frame, self._outgoing_max))
        except BaseException:
            with self._cond:
                self._calls.pop(call.call_id, None)
                self._cond.notify_all()  # a slot is free again
            raise
        return call

    def _send(self, data: bytes, *, blocking: bool = True) -> bool:
        """Sends bytes; with blocking False, gives up (False) if another thread is sending."""
        if not self._write_lock.acquire(blocking):
            return False
        try:
            self._sock.sendall(data)
            return True
        except OSError as error:
            failure = Unavailable(message=f"the connection to logbookd broke: {error}")
            with self._cond:
                self._fail(failure)
            raise _copy(self._error or failure) from error
        finally:
            self._write_lock.release()

    def _send_on(self, call: _Call, frame: P.Frame, *, blocking: bool = True) -> None:
        """Sends a further frame of an open call (Cancel, Credit, Ack, Nack)."""
        frame.call_id = call.call_id
        self._send(P.encode_frame(frame, self._outgoing_max), blocking=blocking)

    def _cancel(self, call: _Call, *, blocking: bool = True) -> None:
        """Ends a call early: sends Cancel and drops whatever else arrives for it.

        From a finalizer (`blocking` False) the Cancel is skipped if another thread is
        sending right then: the call's frames are still dropped, the server just finishes it.
        """
        if not self._cond.acquire(blocking):
            return
        try:
            if call.finished or call.abandoned:
                return
            call.abandoned = True
            call.frames.clear()
            if self._error is not None:
                return
        finally:
            self._cond.release()
        try:
            self._send_on(call, P.cancel_frame(call.call_id), blocking=blocking)
        except LogbookError:
            pass

    def _next(self, call: _Call) -> P.Frame:
        """The call's next frame, reading the socket if no other thread is."""
        return self._wait_until(lambda: bool(call.frames), call.frames.popleft)

    def _wait_until(self, ready: Callable[[], bool], take: Callable[[], Any]) -> Any:
        """Waits until `ready()` holds, then returns `take()` (both under the lock).

        While waiting, the thread reads frames off the socket and hands them to their calls,
        unless another thread is doing so already: whoever waits moves the connection on.
        """
        while True:
            with self._cond:
                while True:
                    if ready():
                        return take()
                    if self._error is not None:
                        raise _copy(self._error)
                    if not self._reading:
                        self._reading = True
                        break
                    self._cond.wait()
            try:
                frame = self._read_frame()
            except (OSError, LogbookError) as error:
                failure = (
                    error
                    if isinstance(error, LogbookError)
                    else Unavailable(message=f"the connection to logbookd broke: {error}")
                )
                with self._cond:
                    self._reading = False
                    self._fail(failure)
                continue
            with self._cond:
                self._reading = False
                self._dispatch(frame)
                self._cond.notify_all()

    def _dispatch(self, frame: P.Frame) -> None:
        if frame.call_id == 0:
            if frame.WhichOneof("body") == "status":
                self._fail(P.connection_error(frame.status))
            return
        call = self._calls.get(frame.call_id)
        if call is None:
            return  # a call we gave up on and already forgot
        is_status = frame.WhichOneof("body") == "status"
        if is_status:
            call.finished = True
            del self._calls[frame.call_id]
        if not call.abandoned:
            call.frames.append(frame)

    def _fail(self, error: LogbookError) -> None:
        """Ends the connection: every open and later call raises `error` (lock held)."""
        if self._error is None:
            self._error = error
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._cond.notify_all()

    def _read_frame(self) -> P.Frame:
        header = self._recv_exact(4)
        length = P.decode_length(header, self._incoming_max)
        return P.decode_frame(self._recv_exact(length))

    def _recv_exact(self, count: int) -> bytes:
        buffer = bytearray(count)
        view = memoryview(buffer)
        received = 0
        while received < count:
            n = self._sock.recv_into(view[received:])
            if n == 0:
                raise Unavailable(message="the connection to logbookd closed")
            received += n
        return bytes(buffer)


class _Streaming:
    """What a read and a subscription share: a call started on first use, its frames."""

    def __init__(self, client: Client, frame: P.Frame) -> None:
        self._client = client
        self._frame = frame
        self._call: _Call | None = None
        self._buffer: collections.deque[Any] = collections.deque()
        self._done = False

    def __iter__(self):
        return self

    def __next__(self):
        while not self._buffer:
            if self._done:
                raise StopIteration
            try:
                if self._call is None:
                    self._call = self._client._start(self._frame)
                frame = self._client._next(self._call)
            except LogbookError:
                self._done = True
                raise
            except BaseException:  # e.g. KeyboardInterrupt while waiting: end the call
                self.close()
                raise
            body = frame.WhichOneof("body")
            if body == "status":
                self._done = True
                if frame.status.code != Code.OK:
                    raise P.status_error(frame.status)
            else:
                try:
                    self._buffer.extend(self._items(frame))
                except LogbookError:
                    self.close()
                    raise
        item = self._buffer.popleft()
        self._on_item(item)
        return item

    def _on_item(self, item: Any) -> None:
        pass

    def _items(self, frame: P.Frame) -> list[Any]:
        raise NotImplementedError

    def close(self, *, _blocking: bool = True) -> None:
        """Stops early: the server is told to cancel the call."""
        if not self._done:
            self._done = True
            self._buffer.clear()
            if self._call is not None:
                self._client._cancel(self._call, blocking=_blocking)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close(_blocking=False)
        except Exception:
            pass


class ReadIterator(_Streaming, Iterator[RecordedEvent]):
    """The events of one read, in order; `close()` (or `with`) to stop early."""

    def _items(self, frame: P.Frame) -> list[RecordedEvent]:
        if frame.WhichOneof("body") != "event_batch":
            raise P.unexpected(frame, "event_batch or status")
        return [P.recorded_event(e) for e in frame.event_batch.events]


class Subscription(_Streaming):
    """An open Subscribe call. Iterating yields, in order: `RecordedEvent` (catch-up) or
    `Delivery` (groups), and the markers `CaughtUp`, `FellBehind`, `Checkpoint`, `Settled`.

    Flow control is automatic: the call opens with `initial_credit` and grants more as you
    take events (a quarter of the window at a time), so the server never has more than the
    window in flight and a subscriber that stops iterating costs it nothing more.
    `position` is the last position seen (event or marker), for resuming with
    `from_=Position(subscription.position)`: a subscription starts after its `from_`.
    """

    def __init__(self, client: Client, frame: P.Frame) -> None:
        super().__init__(client, frame)
        self._chunk = max(1, frame.subscribe_request.initial_credit // 4)
        self._taken = 0
        #: The last position seen, from an event or a marker; None before any.
        self.position: int | None = None
        #: Whether a CaughtUp came (and no FellBehind after it).
        self.caught_up = False

    def _items(self, frame: P.Frame) -> list[Any]:
        return P.subscription_items(frame)

    def _on_item(self, item: Any) -> None:
        if isinstance(item, (RecordedEvent, Delivery)):
            self.position = (item if isinstance(item, RecordedEvent) else item.event).position
            self._taken += 1
            if self._taken >= self._chunk:
                count, self._taken = self._taken, 0
                self._grant(count)
        elif isinstance(item, (CaughtUp, FellBehind, Checkpoint)):
            self.position = item.position
            if isinstance(item, CaughtUp):
                self.caught_up = True
            elif isinstance(item, FellBehind):
                self.caught_up = False

    def _grant(self, count: int) -> None:
        call = self._call
        if call is None or call.finished or self._done:
            return
        try:
            self._client._send_on(call, P.credit_frame(0, count))
        except LogbookError:
            pass  # the connection broke: the next step of the iteration says so

    def _started_call(self) -> _Call:
        if self._call is None:
            self._call = self._client._start(self._frame)
        return self._call

    def credit(self, count: int) -> None:
        """Grants the server `count` more events, beyond the automatic grants."""
        self._client._send_on(self._started_call(), P.credit_frame(0, count))

    def ack(self, delivery_ids: Sequence[int], view_writes: Sequence[ViewWrite] = ()) -> None:
        """Persistent groups: these deliveries are done (with view writes applied in the same
        transaction)."""
        self._client._send_on(self._started_call(), P.ack_frame(0, delivery_ids, view_writes))

    def nack(self, delivery_ids: Sequence[int], action: str = "retry", reason: str = "") -> None:
        """Persistent groups: `retry`, `park` or `skip` these deliveries."""
        self._client._send_on(self._started_call(), P.nack_frame(0, delivery_ids, action, reason))
