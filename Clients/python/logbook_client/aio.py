"""The asyncio client: `logbook_client.aio.Client`, with the calls of `logbook_client.Client`.

A shell of asyncio streams around the core: what each call sends and how its answer is
read is in `_calls`, the connection's state (and what a lost socket does to each call) in
`_connection`; this file only moves bytes, opens sockets and waits. One connection carries
any number of concurrent calls (tasks): a connection task hands what it reads to the
connection and wakes the tasks whose calls have news, and opens a new socket when the
connection says so.

>>> async with logbook_client.aio.Client("/run/logbook.sock") as client:
...     await client.append("order-42", [EventData.json("OrderPlaced", {"total": 10})])
...     async for event in client.read("order-42"):
...         print(event.revision, event.type)
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Concatenate,
    Coroutine,
    Generic,
    Iterable,
    ParamSpec,
    Self,
    TypeVar,
)

from . import _calls as calls
from . import _protocol as P
from ._connection import RECEIVE_BYTES, RECONNECT_WAIT, Call, CallState, Connection, Status, default_socket_path
from .errors import InternalError, LogbookError, Unavailable
from .types import RecordedEvent, Row, ServerInfo

__all__ = ["Client", "connect", "ProjectionWorker", "ReadIterator", "Subscription"]

Params = ParamSpec("Params")
T = TypeVar("T")
ItemT = TypeVar("ItemT")
StreamT = TypeVar("StreamT", bound=calls.Stream[Any])
IteratorT = TypeVar("IteratorT")

#: What a failing socket or transport raises.
_SOCKET_ERRORS = (OSError, ConnectionError, RuntimeError)


def _unary(
    build: Callable[Params, calls.Unary[T]],
) -> Callable[Concatenate[Client, Params], Coroutine[Any, Any, T]]:
    """A method that runs the call `build` makes and returns its answer."""

    async def method(self: Client, /, *args: Params.args, **kwargs: Params.kwargs) -> T:
        return await self._unary(build(*args, **kwargs))

    return calls.as_method(method, build)


def _streaming(
    build: Callable[Params, StreamT], iterator: Callable[[Client, StreamT], IteratorT]
) -> Callable[Concatenate[Client, Params], IteratorT]:
    """A method that returns an async iterator over the call `build` makes (started on
    first use)."""

    def method(self: Client, /, *args: Params.args, **kwargs: Params.kwargs) -> IteratorT:
        return iterator(self, build(*args, **kwargs))

    return calls.as_method(method, build)


def _paged(build: Callable[Params, calls.QueryPages]) -> Callable[Concatenate[Client, Params], AsyncIterator[Row]]:
    """A method that yields the rows of every page of a query (`async for`)."""

    async def method(self: Client, /, *args: Params.args, **kwargs: Params.kwargs) -> AsyncIterator[Row]:
        pages = build(*args, **kwargs)
        while (page := pages.next_page()) is not None:
            for row in pages.rows(await self._unary(page)):
                yield row

    return calls.as_method(method, build)


def _sent_on_call(
    build: Callable[Params, P.Frame],
) -> Callable[Concatenate[Subscription, Params], Coroutine[Any, Any, None]]:
    """A Subscription method that sends the frame `build` makes on the call."""

    async def method(self: Subscription, /, *args: Params.args, **kwargs: Params.kwargs) -> None:
        frame = self._stream.outgoing(build(*args, **kwargs))
        if frame is not None:
            await self._client._send_on(await self._started_call(), frame)

    return calls.as_method(method, build)


async def connect(socket_path: str | os.PathLike[str] | None = None, **options: Any) -> Client:
    """A connected client."""
    client = Client(socket_path, **options)
    await client.connect()
    return client


class _Iterator(Generic[ItemT]):
    """The async iterator over a streaming call (Read, Subscribe): started on first use."""

    def __init__(self, client: Client, stream: calls.Stream[ItemT]) -> None:
        self._client = client
        self._stream = stream
        self._call: Call | None = None
        self._closed_early = False

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ItemT:
        stream = self._stream
        while (item := stream.next_item()) is None:
            if stream.done:
                raise StopAsyncIteration
            try:
                if (delay := stream.take_restart()) is not None:
                    self._call = None
                    await asyncio.sleep(delay)
                call = await self._started_call()
                try:
                    frame = await self._client._next(call)
                except LogbookError as error:
                    if self._closed_early:
                        raise StopAsyncIteration from None  # closed by another thread or task
                    if stream.ended(error, reached_server=call.sent):
                        continue
                    raise
                stream.receive(frame)
            except BaseException:
                self.close()  # whatever ends the step ends the call (see Stream)
                raise
        if (grant := stream.credit_due()) and self._call is not None:
            self._client._grant(self._call, grant)
        return item

    async def _started_call(self) -> Call:
        if self._call is None:
            stream = self._stream
            self._call = await self._client._start(
                stream.request, safe_to_retry=stream.safe_to_retry, resend=stream.resend
            )
        return self._call

    def close(self) -> None:
        """Stops early: the server is told to cancel the call. From another thread (or task),
        this ends an iteration waiting for the next item."""
        if not self._stream.done:
            self._closed_early = True
            self._stream.close()
            if self._call is not None:
                self._client._cancel(self._call)

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self._stream.done and self._call is not None:
                self._stream.close()
                self._client._cancel_from_anywhere(self._call)
        except Exception:
            pass


class ReadIterator(_Iterator[RecordedEvent]):
    """The events of one read; `async for` them, `close()` to stop early."""

    async def collect(self) -> list[RecordedEvent]:
        """Every event of the read, as a list."""
        return [event async for event in self]


class Subscription(_Iterator[P.SubscriptionItem], calls.SubscriptionState):
    """An open Subscribe call; see `logbook_client.client.Subscription` (credit is granted
    automatically as you take events, and a lost connection resumes it)."""

    credit = _sent_on_call(calls.credit)
    ack = _sent_on_call(calls.ack)
    nack = _sent_on_call(calls.nack)


class Client:
    """A connection to logbookd for asyncio programs that reconnects by itself; connects on
    `connect()`, `async with`, or the first call.

    The first connection fails at once with `Unavailable` if the daemon is not there (the
    next call tries again). Once connected, a lost connection is made again in the
    background as `logbook_client.Client` does (see there): calls made meanwhile wait up to
    their `timeout`, else `reconnect_wait`; calls in flight raise `Unavailable` with
    `safe_to_retry`; appends in flight are sent again with the same event ids.
    """

    def __init__(
        self,
        socket_path: str | os.PathLike[str] | None = None,
        *,
        client_name: str = "logbook-python-asyncio",
        connect_timeout: float | None = 10.0,
        reconnect_wait: float | None = RECONNECT_WAIT,
        retry_appends: bool = True,
    ) -> None:
        self.socket_path = os.fspath(socket_path) if socket_path is not None else default_socket_path()
        self._client_name = client_name
        self._connect_timeout = connect_timeout
        self._reconnect_wait = reconnect_wait
        self._retry_appends = retry_appends
        self._connect_lock: asyncio.Lock | None = None
        # A first connection attempt that fails leaves None here: the next call tries again.
        self._connection: Connection | None = None
        self._closed = False
        self._writer: asyncio.StreamWriter | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._wanted: asyncio.Event | None = None  # set when a call waits for a new socket
        self._loop: asyncio.AbstractEventLoop | None = None
        self._news: dict[Call, asyncio.Event] = {}  # set when a call has a frame or ended

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def server_info(self) -> ServerInfo | None:
        """What the daemon said in its HelloReply (the latest); None before the client connects."""
        return self._connection.server_info if self._connection is not None else None

    @property
    def reconnections(self) -> int:
        """How many times the client connected again after losing its connection."""
        return self._connection.reconnections if self._connection is not None else 0

    @property
    def calls_resent(self) -> int:
        """How many calls were sent again on a new connection (appends in flight at a loss)."""
        return self._connection.calls_resent if self._connection is not None else 0

    async def connect(self) -> None:
        """Connects and says Hello (once; later calls return at once)."""
        await self._connected()

    async def _connected(self) -> Connection:
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        async with self._connect_lock:
            if self._closed:
                raise Unavailable(message="the client is closed")
            if self._connection is not None:
                self._connection.check()
                return self._connection
            connection = Connection(
                self._client_name,
                reconnect_wait=self._reconnect_wait,
                retry_appends=self._retry_appends,
                address=self.socket_path,
            )
            try:
                reader, writer = await self._handshake(connection)
            except (OSError, TimeoutError) as error:
                raise Unavailable(message=f"cannot reach logbookd at {self.socket_path}: {error!r}") from error
            self._loop = asyncio.get_running_loop()
            self._wanted = asyncio.Event()
            self._connection, self._writer = connection, writer
            self._run_task = asyncio.create_task(self._run(connection, reader), name="logbook-connection")
            return connection

    async def _handshake(self, connection: Connection) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Opens a socket and says Hello (OSError, TimeoutError, or what the connection
        raises for a refused Hello)."""
        async with asyncio.timeout(self._connect_timeout):
            reader, writer = await asyncio.open_unix_connection(self.socket_path)
            try:
                writer.write(connection.data_to_send())
                while connection.status is Status.CONNECTING:
                    connection.receive_data(await reader.read(RECEIVE_BYTES))
                connection.check()
            except BaseException:
                writer.close()
                raise
        return reader, writer

    async def close(self) -> None:
        """Closes the connection; open calls fail with Unavailable."""
        self._closed = True
        if self._connection is not None:
            self._woken(self._connection.close())
        if self._run_task is not None:
            self._run_task.cancel()
            try:
                await self._run_task
            except (asyncio.CancelledError, Exception):
                pass
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except _SOCKET_ERRORS:
                pass

    @property
    def closed(self) -> bool:
        return self._closed or (self._connection is not None and self._connection.status is Status.CLOSED)

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- the calls (see `_calls` for what each takes and does) ---------------------------

    append = _unary(calls.append)
    append_many = _unary(calls.append_many)
    read = _streaming(calls.read, ReadIterator)
    subscribe = _streaming(calls.subscribe, Subscription)
    subscribe_group = _streaming(calls.subscribe_group, Subscription)
    query = _unary(calls.query)
    query_rows = _paged(calls.query_rows)
    create_group = _unary(calls.create_group)
    update_group = _unary(calls.update_group)
    delete_group = _unary(calls.delete_group)
    list_groups = _unary(calls.list_groups)
    group_info = _unary(calls.group_info)
    reset_group = _unary(calls.reset_group)
    list_parked = _unary(calls.list_parked)
    replay_parked = _unary(calls.replay_parked)
    define_view = _unary(calls.define_view)
    drop_view = _unary(calls.drop_view)
    list_views = _unary(calls.list_views)
    metrics = _unary(calls.metrics)
    delete_stream = _unary(calls.delete_stream)
    set_stream_metadata = _unary(calls.set_stream_metadata)
    get_stream_metadata = _unary(calls.get_stream_metadata)
    #: Another name of `get_stream_metadata` (the Swift client's `streamInfo`).
    stream_info = get_stream_metadata

    # --- carrying calls out --------------------------------------------------------------

    async def _unary(self, unary: calls.Unary[T]) -> T:
        with unary.traced():
            started = time.monotonic()
            while True:
                call = await self._start(unary.request, safe_to_retry=unary.safe_to_retry, resend=unary.resend)
                try:
                    while not unary.done:
                        unary.receive(await self._next(call))
                    return unary.result
                except LogbookError as error:
                    delay = unary.retry_after(
                        error, resend=call.resend, waited=time.monotonic() - started, wait_max=self._wait_max(call)
                    )
                    if delay is None:
                        raise
                finally:
                    self._cancel(call)  # only a protocol error or a task cancelled leaves it open
                await asyncio.sleep(delay)

    def _wait_max(self, call: Call) -> float | None:
        """How long a call may wait for the daemon to serve it: its timeout, else the
        client's reconnect wait."""
        if call.request.timeout_ms:
            return call.request.timeout_ms / 1000
        return self._reconnect_wait

    async def _start(self, request: P.Frame, *, safe_to_retry: bool = True, resend: bool = False) -> Call:
        """Opens a call and sends its request (once a socket and a call slot are free: see
        Connection)."""
        connection = self._connection or await self._connected()
        call = connection.start(request, safe_to_retry=safe_to_retry, resend=resend)
        if connection.status is Status.DOWN and self._wanted is not None:
            self._wanted.set()
        try:
            await self._send()
        except BaseException:  # cancelled while the request went out: end the call
            self._cancel(call)
            raise
        return call

    async def _send_on(self, call: Call, frame: P.Frame) -> None:
        """Sends a further frame of an open call (Ack, Nack, Credit); nothing if it ended."""
        connection = self._connection or await self._connected()
        connection.send_on(call, frame)
        await self._send()

    def _grant(self, call: Call, count: int) -> None:
        """Sends Credit without waiting; a broken connection is for the next step to report."""
        if self._connection is not None and self._connection.status is Status.READY:
            self._connection.send_on(call, calls.credit(count))
            self._flush()

    async def _send(self) -> None:
        """Writes what the connection queued and waits while the socket's buffer is full."""
        self._flush()
        connection, writer = self._connection, self._writer
        if writer is None or connection is None or connection.status is not Status.READY:
            return
        generation = connection.generation
        try:
            await writer.drain()
        except _SOCKET_ERRORS as error:
            self._lost(connection.connection_lost(error, generation))

    def _flush(self) -> None:
        connection, writer = self._connection, self._writer
        if connection is None or writer is None or connection.status is not Status.READY:
            return
        data = connection.data_to_send()
        if data:
            try:
                writer.write(data)
            except _SOCKET_ERRORS as error:
                self._lost(connection.connection_lost(error))

    def _cancel(self, call: Call) -> None:
        """Ends a call early (no await, so that finalizers can use it): see Connection.cancel."""
        if call.state is CallState.ENDED or self._connection is None:
            return
        self._connection.cancel(call)
        self._woken([call])  # a task waiting for it (another iterator's close) hears so
        self._flush()

    def _cancel_from_anywhere(self, call: Call) -> None:
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

    async def _next(self, call: Call) -> P.Frame:
        """The call's next frame, once the connection task hands it over; a call waiting for
        a new socket ends when it has waited as long as it may."""
        connection = self._connection
        assert connection is not None
        while (frame := connection.next_frame(call)) is None:
            news = self._news.setdefault(call, asyncio.Event())
            try:
                async with asyncio.timeout(connection.wake_in() if call.state is CallState.WAITING else None):
                    await news.wait()
            except TimeoutError:
                self._woken(connection.expire())
        return frame

    async def _run(self, connection: Connection, reader: asyncio.StreamReader) -> None:
        """The connection's task: reads the socket, and when it is lost, connects again once
        the back-off has passed and a call waits for it."""
        try:
            while True:
                await self._read_loop(connection, reader)
                if self._writer is not None:
                    self._writer.close()
                next_reader = None
                while next_reader is None:
                    if connection.status is Status.CLOSED:
                        return
                    next_reader = await self._reconnect(connection)
                reader = next_reader
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug here must not leave every call waiting forever
            self._woken(connection.fail(InternalError(message=f"the client's connection task failed: {error!r}")))
            raise

    async def _read_loop(self, connection: Connection, reader: asyncio.StreamReader) -> None:
        generation = connection.generation
        while connection.status is Status.READY and connection.generation == generation:
            try:
                data = await reader.read(RECEIVE_BYTES)
            except _SOCKET_ERRORS as error:
                self._lost(connection.connection_lost(error, generation))
                return
            self._woken(connection.receive_data(data))
            self._flush()  # requests that a freed call slot let through

    async def _reconnect(self, connection: Connection) -> asyncio.StreamReader | None:
        """One step of reconnecting: waits for a call to need a socket and for the back-off,
        then tries once. The new socket's reader, or None."""
        assert self._wanted is not None
        delay = connection.reconnect_in()
        if delay is None:
            self._wanted.clear()
            await self._wanted.wait()
            return None
        if delay > 0:
            await asyncio.sleep(delay)
            return None
        connection.connecting()
        try:
            reader, writer = await self._handshake(connection)
        except (OSError, TimeoutError, LogbookError) as error:
            self._woken(connection.connect_failed(error))
            return None
        if connection.status is not Status.READY:
            writer.close()
            return None
        self._writer = writer
        self._flush()
        return reader

    def _lost(self, calls_with_news: Iterable[Call]) -> None:
        """Wakes the calls a lost socket ended, and closes the socket."""
        self._woken(calls_with_news)
        if self._writer is not None:
            self._writer.close()

    def _woken(self, calls_with_news: Iterable[Call]) -> None:
        for call in calls_with_news:
            news = self._news.pop(call, None)
            if news is not None:
                news.set()


# The asyncio projection worker, defined beside the synchronous one.
from .worker import AsyncProjectionWorker as ProjectionWorker  # noqa: E402
