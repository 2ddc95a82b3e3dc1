"""The asyncio client: `logbook.aio.Client`, with the calls of `logbook.Client`.

One connection carries any number of concurrent calls (tasks), multiplexed by call id: a
reader task takes frames off the socket and hands each to its call's queue.

>>> async with logbook.aio.Client("/run/logbook.sock") as client:
...     await client.append("order-42", [EventData.json("OrderPlaced", {"total": 10})])
...     async for event in client.read("order-42"):
...         print(event.revision, event.type)
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
from typing import Any, AsyncIterator, Iterable, Sequence

from . import _protocol as P
from .client import _copy, default_socket_path
from .errors import Code, InternalError, LogbookError, Unavailable
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

__all__ = ["Client", "connect", "ReadIterator", "Subscription"]


async def connect(socket_path: str | os.PathLike[str] | None = None, **options: Any) -> Client:
    """A connected client."""
    client = Client(socket_path, **options)
    await client.connect()
    return client


class _Call:
    __slots__ = ("call_id", "queue", "finished", "abandoned")

    def __init__(self, call_id: int) -> None:
        self.call_id = call_id
        # Unbounded: a full queue would stall the reader and with it every other call on
        # the connection (a read iterated slowly while the loop appends would deadlock).
        self.queue: asyncio.Queue[P.Frame | LogbookError] = asyncio.Queue()
        self.finished = False
        self.abandoned = False


class Client:
    """A connection to logbookd for asyncio programs; connects on `connect()`, `async with`,
    or the first call."""

    def __init__(
        self,
        socket_path: str | os.PathLike[str] | None = None,
        *,
        client_name: str = "logbook-python-asyncio",
        connect_timeout: float | None = 10.0,
    ) -> None:
        self.socket_path = os.fspath(socket_path) if socket_path is not None else default_socket_path()
        self._client_name = client_name
        self._connect_timeout = connect_timeout
        self._connect_lock: asyncio.Lock | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._calls: dict[int, _Call] = {}
        self._ids = itertools.count(1)
        self._error: LogbookError | None = None
        self._incoming_max = P.DEFAULT_FRAME_BYTES_MAX
        self._outgoing_max: int | None = None
        self.server_info: ServerInfo | None = None
        self._slots: asyncio.Semaphore | None = None

    # --- lifecycle -----------------------------------------------------------------------

    async def connect(self) -> None:
        """Connects and says Hello (once; later calls return at once)."""
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        async with self._connect_lock:
            if self._error is not None:
                raise _copy(self._error)
            if self._writer is not None:
                return
            hello = P.encode_frame(P.hello_frame(self._client_name))
            try:
                async with asyncio.timeout(self._connect_timeout):
                    reader, writer = await asyncio.open_unix_connection(
                        self.socket_path, limit=1 << 20
                    )
                    try:
                        writer.write(hello)
                        frame = await self._read_frame(reader)
                        info = P.parse_hello_reply(frame)
                    except BaseException:
                        writer.close()
                        raise
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
                raise Unavailable(message=f"cannot reach logbookd at {self.socket_path}: {error!r}") from error
            self._loop = asyncio.get_running_loop()
            self._reader, self._writer = reader, writer
            self.server_info = info
            self._incoming_max = P.incoming_limit(info)
            self._outgoing_max = P.outgoing_limit(info)
            if info.limits.open_calls_per_connection_max:
                self._slots = asyncio.Semaphore(info.limits.open_calls_per_connection_max)
            self._reader_task = asyncio.create_task(self._read_loop(), name="logbook-reader")

    async def close(self) -> None:
        """Closes the connection; open calls fail with Unavailable."""
        self._fail(Unavailable(message="the client is closed"))
        if self._reader_task is not None:
            self._reader_task.cancel()
            try:
                await self._reader_task
            except (asyncio.CancelledError, Exception):
                pass
        if self._writer is not None:
            try:
                await self._writer.wait_closed()
            except (OSError, ConnectionError):
                pass

    @property
    def closed(self) -> bool:
        return self._error is not None

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    # --- appends -------------------------------------------------------------------------

    async def append(
        self,
        stream: str,
        events: Iterable[EventData],
        expected: Expected = ANY,
        *,
        timeout: float | None = None,
    ) -> AppendResult:
        """See `logbook.Client.append`."""
        return (await self.append_many([StreamAppend(stream, list(events), expected)], timeout=timeout))[0]

    async def append_many(
        self, appends: Iterable[StreamAppend | tuple], *, timeout: float | None = None
    ) -> list[AppendResult]:
        """See `logbook.Client.append_many`."""
        frame = P.append_frame(0, P.normalize_appends(appends))
        reply = await self._unary(P.with_timeout(frame, timeout), "append_reply")
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
        """See `logbook.Client.read`; returns an async iterator (`async for`)."""
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
        """See `logbook.Client.subscribe`."""
        chosen = P.make_selector(selector, category, event_type, correlation_id)
        frame = P.subscribe_frame(0, chosen, None, from_, filter, event_types, stream_prefix, initial_credit)
        return Subscription(self, frame)

    def subscribe_group(self, group: str, *, initial_credit: int = 100) -> Subscription:
        """See `logbook.Client.subscribe_group`."""
        frame = P.subscribe_frame(0, None, group, None, None, None, None, initial_credit)
        return Subscription(self, frame)

    # --- query ---------------------------------------------------------------------------

    async def query(
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
        """See `logbook.Client.query`."""
        frame = P.query_frame(
            0, view, key, key_prefix, where, order_by, descending, limit, cursor,
            min_position, wait, as_of_position, as_of_time_unix_micros,
        )  # fmt: skip
        return P.parse_query_reply(await self._unary(P.with_timeout(frame, timeout), "query_reply"))

    async def query_rows(self, view: str, **query: Any) -> AsyncIterator[Row]:
        """See `logbook.Client.query_rows`: `async for row in client.query_rows(...)`."""
        cursor = None
        while True:
            page = await self.query(view, cursor=cursor, **query)
            for row in page.rows:
                yield row
            if page.next_cursor is None:
                return
            cursor = page.next_cursor
            query.pop("min_position", None)

    # --- admin ---------------------------------------------------------------------------

    async def _admin(self, op: str, value: Any = None, timeout: float | None = None) -> Any:
        frame = P.with_timeout(P.admin_frame(0, op, value), timeout)
        return P.parse_admin_reply(await self._unary(frame, "admin_reply"))

    async def create_group(self, settings: GroupSettings, *, timeout: float | None = None) -> GroupInfo | None:
        return await self._admin("create_group", settings, timeout)

    async def update_group(self, settings: GroupSettings, *, timeout: float | None = None) -> GroupInfo | None:
        return await self._admin("update_group", settings, timeout)

    async def delete_group(self, name: str, *, timeout: float | None = None) -> None:
        await self._admin("delete_group", name, timeout)

    async def list_groups(self, *, timeout: float | None = None) -> list[GroupInfo]:
        return await self._admin("list_groups", None, timeout) or []

    async def group_info(self, name: str, *, timeout: float | None = None) -> GroupInfo:
        return await self._admin("group_info", name, timeout)

    async def reset_group(
        self, name: str, *, to_position: int = 0, clear_views: bool = False, timeout: float | None = None
    ) -> None:
        await self._admin("reset_group", (name, to_position, clear_views), timeout)

    async def list_parked(
        self, group: str, *, after_position: int = 0, limit: int = 0, timeout: float | None = None
    ) -> list[ParkedEvent]:
        return await self._admin("list_parked", (group, after_position, limit), timeout) or []

    async def replay_parked(self, group: str, *, timeout: float | None = None) -> None:
        await self._admin("replay_parked", group, timeout)

    async def define_view(
        self, name: str, group: str, indexed_paths: Sequence[str] = (), *, timeout: float | None = None
    ) -> None:
        await self._admin("define_view", ViewDefinition(name, group, tuple(indexed_paths)), timeout)

    async def drop_view(self, name: str, *, timeout: float | None = None) -> None:
        await self._admin("drop_view", name, timeout)

    async def list_views(self, *, timeout: float | None = None) -> list[ViewDefinition]:
        return await self._admin("list_views", None, timeout) or []

    async def delete_stream(self, stream: str, expected: Expected = ANY, *, timeout: float | None = None) -> None:
        await self._admin("delete_stream", (stream, expected), timeout)

    # --- calls ---------------------------------------------------------------------------

    async def _unary(self, frame: P.Frame, reply_body: str) -> P.Frame:
        call = await self._start(frame)
        reply = None
        try:
            while True:
                frame = await self._next(call)
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
                    raise P.unexpected(frame, f"{reply_body} or status")
        finally:
            # A task cancelled while waiting (or a protocol error) ends the call on the server.
            self._cancel(call)

    async def _start(self, frame: P.Frame) -> _Call:
        """Registers a call and sends its request frame (checked before anything is sent).

        Waits while the connection has as many open calls as the server allows
        (`open_calls_per_connection_max`): past it the server would refuse the call.
        """
        if self._writer is None or self._error is not None:
            await self.connect()
        if self._slots is not None:
            await self._slots.acquire()
        call = _Call(next(self._ids))
        frame.call_id = call.call_id
        try:
            if self._error is not None:
                raise _copy(self._error)
            data = P.encode_frame(frame, self._outgoing_max)
        except BaseException:
            if self._slots is not None:
                self._slots.release()  # the slot (or the wake-up after a failure) passes on
            raise
        self._calls[call.call_id] = call
        await self._send(data)
        return call

    async def _send(self, data: bytes) -> None:
        assert self._writer is not None
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, ConnectionError, RuntimeError) as error:
            self._fail(Unavailable(message=f"the connection to logbookd broke: {error!r}"))
            raise _copy(self._error) from error  # type: ignore[arg-type]

    async def _send_on(self, call: _Call, frame: P.Frame) -> None:
        frame.call_id = call.call_id
        await self._send(P.encode_frame(frame, self._outgoing_max))

    def _write_nowait(self, call: _Call, frame: P.Frame) -> None:
        """Queues a small frame of an open call without waiting (Credit, Cancel)."""
        if self._error is not None or self._writer is None:
            return
        frame.call_id = call.call_id
        try:
            self._writer.write(P.encode_frame(frame))
        except (OSError, ConnectionError, RuntimeError):
            pass

    def _cancel(self, call: _Call) -> None:
        """Ends a call early (no await, so that finalizers can use it): sends Cancel and
        drops whatever else arrives for it."""
        if call.finished or call.abandoned:
            return
        call.abandoned = True
        self._write_nowait(call, P.cancel_frame(call.call_id))

    def _cancel_from_anywhere(self, call: _Call) -> None:
        """For finalizers, which may run on another thread or after the loop closed."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._cancel(call)
        else:
            try:
                loop.call_soon_threadsafe(self._cancel, call)
            except RuntimeError:
                pass

    async def _next(self, call: _Call) -> P.Frame:
        item = await call.queue.get()
        if isinstance(item, LogbookError):
            call.queue.put_nowait(item)  # for a later _next on the same call
            raise _copy(item)
        return item

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                frame = await self._read_frame(self._reader)
                self._dispatch(frame)
        except asyncio.CancelledError:
            raise
        except asyncio.IncompleteReadError:
            self._fail(Unavailable(message="the connection to logbookd closed"))
        except LogbookError as error:
            self._fail(error)
        except (OSError, ConnectionError) as error:
            self._fail(Unavailable(message=f"the connection to logbookd broke: {error!r}"))
        except Exception as error:  # a bug here must not leave every call waiting forever
            self._fail(InternalError(message=f"the client's reader failed: {error!r}"))
            raise

    def _dispatch(self, frame: P.Frame) -> None:
        if frame.call_id == 0:
            if frame.WhichOneof("body") == "status":
                self._fail(P.connection_error(frame.status))
            return
        call = self._calls.get(frame.call_id)
        if call is None:
            return
        if frame.WhichOneof("body") == "status":
            call.finished = True
            del self._calls[frame.call_id]
            if self._slots is not None:
                self._slots.release()
        if not call.abandoned:
            call.queue.put_nowait(frame)

    def _fail(self, error: LogbookError) -> None:
        if self._error is not None:
            return
        self._error = error
        for call in self._calls.values():
            call.queue.put_nowait(error)
            if self._slots is not None:
                self._slots.release()  # a task waiting for a slot wakes and sees the error
        self._calls.clear()
        if self._writer is not None:
            self._writer.close()

    async def _read_frame(self, reader: asyncio.StreamReader) -> P.Frame:
        header = await reader.readexactly(4)
        length = P.decode_length(header, self._incoming_max)
        return P.decode_frame(await reader.readexactly(length) if length else b"")


class _Streaming:
    def __init__(self, client: Client, frame: P.Frame) -> None:
        self._client = client
        self._frame = frame
        self._call: _Call | None = None
        self._buffer: collections.deque[Any] = collections.deque()
        self._done = False

    def __aiter__(self):
        return self

    async def __anext__(self):
        while not self._buffer:
            if self._done:
                raise StopAsyncIteration
            try:
                if self._call is None:
                    self._call = await self._client._start(self._frame)
                frame = await self._client._next(self._call)
            except asyncio.CancelledError:
                self.close()
                raise
            except BaseException:
                self._done = True
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

    def close(self) -> None:
        """Stops early: the server is told to cancel the call."""
        if not self._done:
            self._done = True
            self._buffer.clear()
            if self._call is not None:
                self._client._cancel(self._call)

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self._done and self._call is not None:
                self._done = True
                self._client._cancel_from_anywhere(self._call)
        except Exception:
            pass


class ReadIterator(_Streaming, AsyncIterator[RecordedEvent]):
    """The events of one read; `async for` them, `close()` to stop early."""

    def _items(self, frame: P.Frame) -> list[RecordedEvent]:
        if frame.WhichOneof("body") != "event_batch":
            raise P.unexpected(frame, "event_batch or status")
        return [P.recorded_event(e) for e in frame.event_batch.events]

    async def collect(self) -> list[RecordedEvent]:
        """Every event of the read, as a list."""
        return [event async for event in self]


class Subscription(_Streaming):
    """An open Subscribe call; see `logbook.client.Subscription` (credit is granted
    automatically as you take events)."""

    def __init__(self, client: Client, frame: P.Frame) -> None:
        super().__init__(client, frame)
        self._chunk = max(1, frame.subscribe_request.initial_credit // 4)
        self._taken = 0
        self.position: int | None = None
        self.caught_up = False

    def _items(self, frame: P.Frame) -> list[Any]:
        return P.subscription_items(frame)

    def _on_item(self, item: Any) -> None:
        if isinstance(item, (RecordedEvent, Delivery)):
            self.position = (item if isinstance(item, RecordedEvent) else item.event).position
            self._taken += 1
            if self._taken >= self._chunk:
                count, self._taken = self._taken, 0
                call = self._call
                if call is not None and not call.finished and not self._done:
                    self._client._write_nowait(call, P.credit_frame(0, count))
        elif isinstance(item, (CaughtUp, FellBehind, Checkpoint)):
            self.position = item.position
            if isinstance(item, CaughtUp):
                self.caught_up = True
            elif isinstance(item, FellBehind):
                self.caught_up = False

    async def _started_call(self) -> _Call:
        if self._call is None:
            self._call = await self._client._start(self._frame)
        return self._call

    async def credit(self, count: int) -> None:
        await self._client._send_on(await self._started_call(), P.credit_frame(0, count))

    async def ack(self, delivery_ids: Sequence[int], view_writes: Sequence[ViewWrite] = ()) -> None:
        await self._client._send_on(await self._started_call(), P.ack_frame(0, delivery_ids, view_writes))

    async def nack(self, delivery_ids: Sequence[int], action: str = "retry", reason: str = "") -> None:
        await self._client._send_on(await self._started_call(), P.nack_frame(0, delivery_ids, action, reason))
