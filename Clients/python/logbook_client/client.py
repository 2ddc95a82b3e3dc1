"""The synchronous client: `logbook_client.Client`, a shell of sockets and threads around the core.

What each call sends and how its answer is read is in `_calls`; the connection's state
(call table, call slots, failure) in `_connection`. This file only moves bytes and waits.

One Unix-socket connection, shared safely by any number of threads, with many calls open at
once (an open read does not block an append). No background thread: a thread that waits for
its call's next frame reads the socket itself while no other thread does, and hands frames
of other calls to the connection (leader/follower). A single-threaded program thus pays no
thread hand-off per call.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any, Callable, Concatenate, Generic, Iterator, ParamSpec, Self, TypeVar

from . import _calls as calls
from . import _protocol as P
from ._connection import RECEIVE_BYTES, Call, CallState, Connection, default_socket_path
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
    """A Subscription method that sends the frame `build` makes on the call."""

    def method(self: Subscription, /, *args: Params.args, **kwargs: Params.kwargs) -> None:
        self._client._send_on(self._started_call(), build(*args, **kwargs))

    return calls.as_method(method, build)


class _Iterator(Generic[ItemT]):
    """The iterator over a streaming call (Read, Subscribe): started on first use."""

    def __init__(self, client: Client, stream: calls.Stream[ItemT]) -> None:
        self._client = client
        self._stream = stream
        self._call: Call | None = None

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> ItemT:
        stream = self._stream
        while (item := stream.next_item()) is None:
            if stream.done:
                raise StopIteration
            try:
                stream.receive(self._client._next(self._started_call()))
            except BaseException:
                self.close()  # whatever ends the step ends the call (see Stream)
                raise
        if (grant := stream.credit_due()) and self._call is not None:
            self._client._grant(self._call, grant)
        return item

    def _started_call(self) -> Call:
        if self._call is None:
            self._call = self._client._start(self._stream.request)
        return self._call

    def close(self, *, _blocking: bool = True) -> None:
        """Stops early: the server is told to cancel the call."""
        if not self._stream.done:
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


class Subscription(_Iterator[P.SubscriptionItem]):
    """An open Subscribe call. Iterating yields, in order: `RecordedEvent` (catch-up) or
    `Delivery` (groups), and the markers `CaughtUp`, `FellBehind`, `Checkpoint`, `Settled`.

    Flow control is automatic: the call opens with `initial_credit` and grants more as you
    take events (see `_calls.SubscriptionStream`). `position` is the last position seen
    (event or marker), for resuming with `from_=Position(subscription.position)`: a
    subscription starts after its `from_`.
    """

    _stream: calls.SubscriptionStream

    @property
    def position(self) -> int | None:
        """The last position seen, from an event or a marker; None before any."""
        return self._stream.position

    @property
    def caught_up(self) -> bool:
        """Whether a CaughtUp came (and no FellBehind after it)."""
        return self._stream.caught_up

    credit = _sent_on_call(calls.credit)
    ack = _sent_on_call(calls.ack)
    nack = _sent_on_call(calls.nack)


class Client:
    """A connection to logbookd.

    >>> with logbook_client.Client("/run/logbook.sock") as client:
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
        self._connection = Connection(client_name)
        self._cond = threading.Condition(threading.Lock())
        self._write_lock = threading.Lock()
        self._reading = False
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(connect_timeout)
            sock.connect(self.socket_path)
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
        assert self._connection.server_info is not None
        self.server_info: ServerInfo = self._connection.server_info

    # --- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Closes the connection; open calls fail with Unavailable."""
        with self._cond:
            self._connection.close()
            self._cond.notify_all()
        self._shutdown()
        self._sock.close()

    @property
    def closed(self) -> bool:
        return self._connection.error is not None

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
    delete_stream = _unary(calls.delete_stream)

    # --- carrying calls out --------------------------------------------------------------

    def _unary(self, unary: calls.Unary[T]) -> T:
        call = self._start(unary.request)
        try:
            while not unary.done:
                unary.receive(self._next(call))
        finally:
            self._cancel(call)  # only a protocol error or an interrupt leaves it open
        return unary.result

    def _start(self, request: P.Frame) -> Call:
        """Opens a call and sends its request (once a call slot is free: see Connection)."""
        with self._cond:
            call = self._connection.start(request)
        try:
            self._flush()
        except BaseException:  # interrupted: the request may have gone out
            self._cancel(call)
            raise
        return call

    def _send_on(self, call: Call, frame: P.Frame) -> None:
        """Sends a further frame of an open call (Credit, Ack, Nack)."""
        with self._cond:
            self._connection.send_on(call, frame)
        self._flush()
        with self._cond:
            self._connection.check()

    def _grant(self, call: Call, count: int) -> None:
        """Sends Credit; a broken connection is for the next step to report."""
        with self._cond:
            if self._connection.error is not None:
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
        """The call's next frame, reading the socket if no other thread is."""
        return self._wait_until(lambda: self._connection.next_frame(call))

    def _wait_until(self, ready: Callable[[], T | None]) -> T:
        """The first answer of `ready()` (called under the lock) that is not None.

        While waiting, the thread reads the socket for every call, unless another thread
        is doing so already: whoever waits moves the connection on.
        """
        while True:
            reading = False
            try:
                with self._cond:
                    while (result := ready()) is None and self._reading:
                        self._cond.wait()
                    if result is not None:
                        return result
                    self._reading = reading = True
                data, error = self._receive()
            except BaseException:
                if reading:  # an interrupt while reading: another thread reads on
                    with self._cond:
                        self._reading = False
                        self._cond.notify_all()
                raise
            self._received(data, error)

    def _receive(self) -> tuple[bytes, OSError | None]:
        """One read of the socket: what came (empty when the server closed), or the error."""
        try:
            return self._sock.recv(RECEIVE_BYTES), None
        except OSError as error:
            return b"", error

    def _received(self, data: bytes, error: OSError | None) -> None:
        """Hands what the reader read to the connection and wakes the waiting threads."""
        with self._cond:
            self._reading = False
            if error is None:
                self._connection.receive_data(data)
            else:
                self._connection.connection_lost(error)
            self._cond.notify_all()
            failed = self._connection.error is not None
            sending = self._connection.has_data_to_send
        if failed:
            self._shutdown()
        elif sending:
            self._flush()  # requests that a freed call slot let through

    def _flush(self, *, blocking: bool = True) -> None:
        """Sends what the connection queued, in order (one thread at a time).

        With `blocking` False, gives up if another thread is sending: that thread, or the
        next call, sends it. A failed send ends the connection; the calls raise it. So does
        an interrupted one: how much of it reached the server cannot be known.
        """
        if not self._write_lock.acquire(blocking):
            return
        try:
            while True:
                data = b""
                try:
                    with self._cond:
                        data = self._connection.data_to_send()
                    if not data:
                        return
                    self._sock.sendall(data)
                except OSError as error:
                    self._end(error)
                    return
                except BaseException:
                    if data:  # taken from the connection, and maybe partly sent
                        self._end(Unavailable(message="a send was interrupted"))
                    raise
        finally:
            self._write_lock.release()

    def _end(self, error: OSError | LogbookError) -> None:
        """Ends the connection with `error` (a socket's, or the client's) and wakes every thread."""
        with self._cond:
            if isinstance(error, OSError):
                self._connection.connection_lost(error)
            else:
                self._connection.fail(error)
            self._cond.notify_all()
        self._shutdown()

    def _shutdown(self) -> None:
        """Wakes a thread blocked reading the socket (the connection has ended)."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
