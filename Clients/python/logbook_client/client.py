"""The synchronous client: `logbook_client.Client`, a shell of sockets and threads around the core.

What each call sends and how its answer is read is in `_calls`; the connection's state
(call table, call slots, what a lost socket does to each call, when to reconnect) in
`_connection`. This file only moves bytes, opens sockets and waits.

One Unix-socket connection, shared safely by any number of threads, with many calls open at
once (an open read does not block an append). No background thread: a thread that waits for
its call's next frame reads the socket itself while no other thread does, and hands frames
of other calls to the connection (leader/follower); when the connection is down, that thread
connects again once the back-off has passed. A single-threaded program thus pays no thread
hand-off per call.
"""

from __future__ import annotations

import enum
import os
import socket
import threading
import time
from typing import Any, Callable, Concatenate, Generic, Iterator, ParamSpec, Self, TypeVar

from . import _calls as calls
from . import _protocol as P
from ._connection import RECEIVE_BYTES, RECONNECT_WAIT, Call, CallState, Connection, Status, default_socket_path
from .errors import LogbookError, Unavailable
from .types import RecordedEvent, Row, ServerInfo

__all__ = ["Client", "ReadIterator", "Subscription", "default_socket_path"]

Params = ParamSpec("Params")
T = TypeVar("T")
ItemT = TypeVar("ItemT")
StreamT = TypeVar("StreamT", bound=calls.Stream[Any])
IteratorT = TypeVar("IteratorT")


def _unary(build: Callable[Params, calls.Unary[T]]) -> Callable[Concatenate[Client, Params], T]:
    """A method that runs the call `build` makes and returns its answer."""

    def method(self: Client, /, *args: Params.args, **kwargs: Params.kwargs) -> T:
        return self._unary(build(*args, **kwargs))

    return calls.as_method(method, build)


def _streaming(
    build: Callable[Params, StreamT], iterator: Callable[[Client, StreamT], IteratorT]
) -> Callable[Concatenate[Client, Params], IteratorT]:
    """A method that returns an iterator over the call `build` makes (started on first use)."""

    def method(self: Client, /, *args: Params.args, **kwargs: Params.kwargs) -> IteratorT:
        return iterator(self, build(*args, **kwargs))

    return calls.as_method(method, build)


def _paged(build: Callable[Params, calls.QueryPages]) -> Callable[Concatenate[Client, Params], Iterator[Row]]:
    """A method that yields the rows of every page of a query."""

    def method(self: Client, /, *args: Params.args, **kwargs: Params.kwargs) -> Iterator[Row]:
        pages = build(*args, **kwargs)
        while (page := pages.next_page()) is not None:
            yield from pages.rows(self._unary(page))

    return calls.as_method(method, build)


def _sent_on_call(build: Callable[Params, P.Frame]) -> Callable[Concatenate[Subscription, Params], None]:
    """A Subscription method that sends the frame `build` makes on the call (nothing for a
    delivery of an earlier call: see `_calls.SubscriptionStream`)."""

    def method(self: Subscription, /, *args: Params.args, **kwargs: Params.kwargs) -> None:
        frame = self._stream.outgoing(build(*args, **kwargs))
        if frame is not None:
            self._client._send_on(self._started_call(), frame)

    return calls.as_method(method, build)


class _Iterator(Generic[ItemT]):
    """The iterator over a streaming call (Read, Subscribe): started on first use, and
    started again when the stream says so (a subscription resuming after a lost connection)."""

    def __init__(self, client: Client, stream: calls.Stream[ItemT]) -> None:
        self._client = client
        self._stream = stream
        self._call: Call | None = None
        self._closed_early = False

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> ItemT:
        stream = self._stream
        while (item := stream.next_item()) is None:
            if stream.done:
                raise StopIteration
            try:
                if (delay := stream.take_restart()) is not None:
                    self._call = None
                    time.sleep(delay)
                call = self._started_call()
                try:
                    frame = self._client._next(call)
                except LogbookError as error:
                    if self._closed_early:
                        raise StopIteration from None  # closed by another thread or task
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

    def _started_call(self) -> Call:
        if self._call is None:
            stream = self._stream
            self._call = self._client._start(stream.request, safe_to_retry=stream.safe_to_retry, resend=stream.resend)
        return self._call

    def close(self, *, _blocking: bool = True) -> None:
        """Stops early: the server is told to cancel the call. From another thread (or task),
        this ends an iteration waiting for the next item."""
        if not self._stream.done:
            self._closed_early = True
            self._stream.close()
            if self._call is not None:
                self._client._cancel(self._call, blocking=_blocking)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close(_blocking=False)
        except Exception:
            pass


class ReadIterator(_Iterator[RecordedEvent]):
    """The events of one read, in order; `close()` (or `with`) to stop early."""


class Subscription(_Iterator[P.SubscriptionItem], calls.SubscriptionState):
    """An open Subscribe call. Iterating yields, in order: `RecordedEvent` (catch-up) or
    `Delivery` (groups), and the markers `CaughtUp`, `FellBehind`, `Checkpoint`, `Settled`.

    Flow control is automatic: the call opens with `initial_credit` and grants more as you
    take events (see `_calls.SubscriptionStream`). `position` is the last position seen
    (event or marker), for resuming with `from_=Position(subscription.position)`: a
    subscription starts after its `from_`.

    A lost connection does not end it: once the client has reconnected, a catch-up
    subscription resumes right after the last item it handed out (no gap, no duplicate, no
    second CaughtUp), and a group subscription joins the group again (deliveries it had not
    acked come again; acking one of them sends nothing). It raises `Unavailable` when the
    daemon stays away longer than the client's `reconnect_wait`, and any other refusal.
    """

    credit = _sent_on_call(calls.credit)
    ack = _sent_on_call(calls.ack)
    nack = _sent_on_call(calls.nack)


class Client:
    """A connection to logbookd that reconnects by itself.

    >>> with logbook_client.Client("/run/logbook.sock") as client:
    ...     client.append("order-42", [EventData.json("OrderPlaced", {"total": 10})], expected=NO_STREAM)
    ...     for event in client.read("order-42"):
    ...         print(event.revision, event.type, event.json())

    The first connection is made here, and fails at once with `Unavailable` if the daemon
    is not there. After that, a lost connection (a daemon restart) is made again after a
    jittered back-off (50 ms doubling to 2 s): a call made meanwhile waits for it, up to
    its `timeout`, else up to `reconnect_wait` seconds (None: for ever); calls in flight
    raise `Unavailable` with `safe_to_retry`, except appends, which are sent again with
    the same event ids until they succeed or run out of time (`retry_appends=False` turns
    that off). Losses and reconnections are logged (logger `logbook_client`, info).
    """

    def __init__(
        self,
        socket_path: str | os.PathLike[str] | None = None,
        *,
        client_name: str = "logbook-python",
        connect_timeout: float | None = 10.0,
        reconnect_wait: float | None = RECONNECT_WAIT,
        retry_appends: bool = True,
    ) -> None:
        self.socket_path = os.fspath(socket_path) if socket_path is not None else default_socket_path()
        self._connect_timeout = connect_timeout
        self._connection = Connection(
            client_name, reconnect_wait=reconnect_wait, retry_appends=retry_appends, address=self.socket_path
        )
        self._cond = threading.Condition(threading.Lock())
        self._write_lock = threading.Lock()
        # Whether a thread is reading the socket or reconnecting: it moves the connection on.
        self._driving = False
        try:
            sock = self._open_socket()
        except OSError as error:
            raise Unavailable(message=f"cannot reach logbookd at {self.socket_path}: {error}") from error
        try:
            sock.sendall(self._connection.data_to_send())
            while not self._connection.connected():
                self._connection.receive_data(sock.recv(RECEIVE_BYTES))
            sock.settimeout(None)
        except OSError as error:
            sock.close()
            raise Unavailable(message=f"cannot reach logbookd at {self.socket_path}: {error}") from error
        except BaseException:
            sock.close()
            raise
        self._sock = sock

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def server_info(self) -> ServerInfo:
        """What the daemon said in its HelloReply (the latest, after a reconnection)."""
        info = self._connection.server_info
        assert info is not None  # the constructor's handshake succeeded
        return info

    @property
    def reconnections(self) -> int:
        """How many times the client connected again after losing its connection."""
        return self._connection.reconnections

    @property
    def calls_resent(self) -> int:
        """How many calls were sent again on a new connection (appends in flight at a loss)."""
        return self._connection.calls_resent

    def close(self) -> None:
        """Closes the connection; open calls fail with Unavailable."""
        with self._cond:
            self._connection.close()
            self._cond.notify_all()
            sock = self._sock
        self._shutdown(sock)
        with self._write_lock:
            sock.close()

    @property
    def closed(self) -> bool:
        return self._connection.status is Status.CLOSED

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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

    def _unary(self, unary: calls.Unary[T]) -> T:
        with unary.traced():
            started = time.monotonic()
            while True:
                call = self._start(unary.request, safe_to_retry=unary.safe_to_retry, resend=unary.resend)
                try:
                    while not unary.done:
                        unary.receive(self._next(call))
                    return unary.result
                except LogbookError as error:
                    delay = unary.retry_after(
                        error, resend=call.resend, waited=time.monotonic() - started, wait_max=self._wait_max(call)
                    )
                    if delay is None:
                        raise
                finally:
                    self._cancel(call)  # only a protocol error or an interrupt leaves it open
                time.sleep(delay)

    def _wait_max(self, call: Call) -> float | None:
        """How long a call may wait for the daemon to serve it: its timeout, else the
        client's reconnect wait."""
        if call.request.timeout_ms:
            return call.request.timeout_ms / 1000
        return self._connection.reconnect_wait

    def _start(self, request: P.Frame, *, safe_to_retry: bool = True, resend: bool = False) -> Call:
        """Opens a call and sends its request (once a socket and a call slot are free: see
        Connection)."""
        with self._cond:
            call = self._connection.start(request, safe_to_retry=safe_to_retry, resend=resend)
            self._cond.notify_all()  # a thread waiting to reconnect may have work now
        try:
            self._flush()
        except BaseException:  # interrupted: the request may have gone out
            self._cancel(call)
            raise
        return call

    def _send_on(self, call: Call, frame: P.Frame) -> None:
        """Sends a further frame of an open call (Credit, Ack, Nack); nothing if it ended."""
        with self._cond:
            self._connection.send_on(call, frame)
        self._flush()

    def _grant(self, call: Call, count: int) -> None:
        """Sends Credit; a broken connection is for the next step to report."""
        with self._cond:
            if self._connection.status is not Status.READY:
                return
            self._connection.send_on(call, calls.credit(count))
        self._flush()

    def _cancel(self, call: Call, *, blocking: bool = True) -> None:
        """Ends a call early (see Connection.cancel).

        From a finalizer (`blocking` False) nothing waits for a lock: the Cancel is sent
        by the next call if another thread holds one now.
        """
        if call.state is CallState.ENDED:
            return
        if not self._cond.acquire(blocking):
            return
        try:
            self._connection.cancel(call)
        finally:
            self._cond.release()
        self._flush(blocking=blocking)

    def _next(self, call: Call) -> P.Frame:
        """The call's next frame, reading the socket (or reconnecting) if no other thread is."""
        return self._wait_until(lambda: self._connection.next_frame(call))

    def _wait_until(self, ready: Callable[[], T | None]) -> T:
        """The first answer of `ready()` (called under the lock) that is not None.

        While waiting, the thread moves the connection on for every call, unless another
        thread is doing so already: it reads the socket, or, when the connection is down
        and the back-off has passed, connects again. Whoever waits does the work; a thread
        that waits for a new connection also ends the calls that waited too long.
        """
        while True:
            driving = False
            try:
                with self._cond:
                    job = self._job(ready)
                    if not isinstance(job, _Job):
                        return job
                    self._driving = driving = True
                    sock, generation = self._sock, self._connection.generation
                if job is _Job.READ:
                    self._read(sock, generation)
                else:
                    self._reconnect()
            except BaseException:
                if driving:  # an interrupt while driving: another thread takes over
                    with self._cond:
                        self._driving = False
                        self._cond.notify_all()
                raise

    def _job(self, ready: Callable[[], T | None]) -> T | _Job:
        """Under the lock: `ready()`'s answer, or the work this thread is to do for it."""
        connection = self._connection
        while True:
            if connection.expire():
                self._cond.notify_all()
            result = ready()
            if result is not None:
                return result
            connection.check()
            if not self._driving:
                if connection.status is Status.READY:
                    return _Job.READ
                delay = connection.reconnect_in()
                if delay == 0:
                    return _Job.CONNECT
            self._cond.wait(connection.wake_in())

    def _read(self, sock: socket.socket, generation: int) -> None:
        """One read of the socket by the driving thread, handed to the connection."""
        error: OSError | None = None
        try:
            data = sock.recv(RECEIVE_BYTES)
        except OSError as raised:
            data, error = b"", raised
        with self._cond:
            self._driving = False
            if error is None:
                self._connection.receive_data(data)
            else:
                self._connection.connection_lost(error, generation)
            self._cond.notify_all()
            lost = self._connection.generation != generation or self._connection.status is not Status.READY
            sending = self._connection.has_data_to_send
        if lost:
            self._shutdown(sock)
        elif sending:
            self._flush()  # requests that a freed call slot let through

    def _reconnect(self) -> None:
        """The driving thread opens a new socket and says Hello; the calls that waited for
        it go out once the daemon answers."""
        with self._cond:
            self._connection.connecting()
            hello = self._connection.data_to_send()
            generation = self._connection.generation
        sock: socket.socket | None = None
        try:
            sock = self._open_socket()
            with self._write_lock:  # no send uses the old socket from here on
                old, self._sock = self._sock, sock
                old.close()
            sock.sendall(hello)
            while True:
                data = sock.recv(RECEIVE_BYTES)
                with self._cond:
                    self._connection.receive_data(data)
                    status = self._connection.status
                if status is not Status.CONNECTING:
                    break
            sock.settimeout(None)
        except BaseException as error:  # OSError, or an interrupt: this attempt failed
            with self._cond:
                self._connection.connect_failed(error)
            if sock is not None:
                self._shutdown(sock)
            if not isinstance(error, OSError):
                raise
        finally:
            with self._cond:
                self._driving = False
                self._cond.notify_all()
        with self._cond:
            ready = self._connection.status is Status.READY and self._connection.generation == generation
        if ready:
            self._flush()
        elif sock is not None:
            self._shutdown(sock)

    def _open_socket(self) -> socket.socket:
        """A socket connected to the daemon, still with the connect timeout (OSError if not)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self._connect_timeout)
            sock.connect(self.socket_path)
        except BaseException:
            sock.close()
            raise
        return sock

    def _flush(self, *, blocking: bool = True) -> None:
        """Sends what the connection queued, in order (one thread at a time).

        With `blocking` False, gives up if another thread is sending: that thread, or the
        next call, sends it. A failed send loses the socket (the connection reconnects). So
        does an interrupted one: how much of it reached the server cannot be known.
        """
        if not self._write_lock.acquire(blocking):
            return
        try:
            while True:
                data = b""
                with self._cond:
                    if self._connection.status is not Status.READY:
                        return
                    data = self._connection.data_to_send()
                    sock, generation = self._sock, self._connection.generation
                if not data:
                    return
                try:
                    sock.sendall(data)
                except OSError as error:
                    self._lost(sock, generation, error)
                    return
                except BaseException:
                    self._lost(sock, generation, Unavailable(message="a send was interrupted"))
                    raise
        finally:
            self._write_lock.release()

    def _lost(self, sock: socket.socket, generation: int, error: BaseException) -> None:
        """The socket of `generation` failed: the connection decides each call's fate, and
        every thread wakes."""
        with self._cond:
            self._connection.connection_lost(error, generation)
            self._cond.notify_all()
        self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        """Wakes a thread blocked reading the socket (its connection has ended)."""
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Job(enum.Enum):
    """What a waiting thread does for the connection (see `Client._wait_until`)."""

    READ = "read the socket"
    CONNECT = "connect again"
