"""One connection to logbookd without I/O: what to send, and what arrived for which call.

Both clients drive a `Connection` (sans-I/O): they hand it the bytes they read
(`receive_data`), send the bytes it queues (`data_to_send`) and wait for it to have news
for a call. Everything else lives here once: the handshake, the framing, the call table,
the call slots the server allows, Cancel, and the failure that ends every call.

A call goes through these states:

| state     | meaning                                                          |
| --------- | ---------------------------------------------------------------- |
| `WAITING` | its request is held back: the server's open calls are all taken  |
| `OPEN`    | its request is queued or sent; its Status has not arrived        |
| `ENDED`   | its Status arrived, it was cancelled before it was sent, or the connection failed |

Not thread-safe: the synchronous client holds its lock around every method.
"""

from __future__ import annotations

import collections
import enum
import itertools
import os

from . import _protocol as P
from .errors import LogbookError, Unavailable
from .types import ServerInfo

__all__ = ["Call", "CallState", "Connection", "default_socket_path"]

#: Where the clients connect when given no path, as the CLI.
DEFAULT_SOCKET = "./logbook.sock"
#: How much one read of the socket asks for: a read batch of small events at once.
RECEIVE_BYTES = 1 << 16


def default_socket_path() -> str:
    """`$LOGBOOK_SOCKET`, else `./logbook.sock` (as the CLI)."""
    return os.environ.get("LOGBOOK_SOCKET") or DEFAULT_SOCKET


class CallState(enum.Enum):
    WAITING = "waiting for a call slot"
    OPEN = "open"
    ENDED = "ended"


class Call:
    """One call on a connection: its id, its state, the frames that came for it."""

    __slots__ = ("call_id", "state", "frames", "abandoned", "_held")

    def __init__(self, call_id: int) -> None:
        self.call_id = call_id
        self.state = CallState.WAITING
        #: Frames that came for the call and were not taken yet (its Status last).
        self.frames: collections.deque[P.Frame] = collections.deque()
        #: Cancelled by the client: whatever else comes for it is dropped.
        self.abandoned = False
        # While WAITING: the request, and any frame sent on the call, in order.
        self._held: list[bytes] = []

    def __repr__(self) -> str:
        return f"Call({self.call_id}, {self.state.name}{', abandoned' if self.abandoned else ''})"


class Connection:
    """The state of one connection; see the module docstring."""

    def __init__(self, client_name: str) -> None:
        #: What the server said in its HelloReply; None until the handshake is done.
        self.server_info: ServerInfo | None = None
        #: Why the connection ended; every open and later call raises a copy of it.
        self.error: LogbookError | None = None
        #: The largest request frame the server takes (None: unknown, no check).
        self.outgoing_frame_bytes_max: int | None = None
        self._open_calls_max: int | None = None
        self._decoder = P.FrameDecoder()
        self._outbox: list[bytes] = [P.encode_frame(P.hello_frame(client_name))]
        self._calls: dict[int, Call] = {}  # OPEN calls, by id
        self._waiting: collections.deque[Call] = collections.deque()
        self._ids = itertools.count(1)

    # --- what the client asks for --------------------------------------------------------

    def start(self, request: P.Frame) -> Call:
        """Opens a call: its request is queued at once, or held back (WAITING) until one
        of the server's call slots (`open_calls_per_connection_max`) frees, in order.

        A request the server would refuse by closing the connection (too large, not
        encodable) raises here, and nothing is queued.
        """
        self.check()
        call = Call(next(self._ids))
        request.call_id = call.call_id
        data = P.encode_frame(request, self.outgoing_frame_bytes_max)
        if self._waiting or not self._has_slot():
            call._held.append(data)
            self._waiting.append(call)
        else:
            self._open(call, data)
        return call

    def send_on(self, call: Call, frame: P.Frame) -> None:
        """Queues a further frame of a call (Credit, Ack, Nack) after its request; a call
        that has ended takes none."""
        self.check()
        frame.call_id = call.call_id
        data = P.encode_frame(frame, self.outgoing_frame_bytes_max)
        if call.state is CallState.WAITING:
            call._held.append(data)
        elif call.state is CallState.OPEN:
            self._outbox.append(data)

    def cancel(self, call: Call) -> None:
        """Ends a call early: its frames are dropped from now on, and the server is told
        (Cancel) if it runs the call. Harmless on a call that has ended."""
        if call.abandoned or call.state is CallState.ENDED:
            return
        call.abandoned = True
        call.frames.clear()
        if call.state is CallState.WAITING:
            self._waiting.remove(call)
            call.state = CallState.ENDED
        elif self.error is None:
            self._outbox.append(P.encode_frame(P.cancel_frame(call.call_id)))

    def next_frame(self, call: Call) -> P.Frame | None:
        """The call's next frame; None until one comes. Once its frames are taken, a call
        the connection's failure ended raises a copy of that failure."""
        if call.frames:
            return call.frames.popleft()
        self.check()
        return None

    def data_to_send(self) -> bytes:
        """Takes the bytes queued for the socket, in the order they must go."""
        data = b"".join(self._outbox)
        self._outbox.clear()
        return data

    @property
    def has_data_to_send(self) -> bool:
        return bool(self._outbox)

    @property
    def calls(self) -> list[Call]:
        """The calls not ended: open, then waiting for a slot."""
        return [*self._calls.values(), *self._waiting]

    # --- what the socket says ------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Call]:
        """Takes bytes read from the socket; returns the calls that have news (a frame,
        their end). Empty `data` means the server closed the connection."""
        if self.error is not None:
            return []
        if not data:
            return self.fail(Unavailable(message="the connection to logbookd closed"))
        self._decoder.feed(data)
        news: list[Call] = []
        while self.error is None:
            try:
                frame = self._decoder.next_frame()
            except LogbookError as error:
                return self.fail(error)
            if frame is None:
                break
            news += self._receive(frame)
        return news

    def connection_lost(self, error: Exception) -> list[Call]:
        """The socket failed; returns the calls that this ends."""
        return self.fail(Unavailable(message=f"the connection to logbookd broke: {error!r}"))

    def close(self) -> list[Call]:
        """The client closes the connection; returns the calls that this ends."""
        return self.fail(Unavailable(message="the client is closed"))

    def fail(self, error: LogbookError) -> list[Call]:
        """Ends the connection: every call that has not ended raises `error` once its
        frames are taken. Returns those calls (empty if the connection had ended)."""
        if self.error is not None:
            return []
        self.error = error
        ended = self.calls
        for call in ended:
            call.state = CallState.ENDED
        self._calls.clear()
        self._waiting.clear()
        self._outbox.clear()
        return ended

    def connected(self) -> bool:
        """True once the handshake is done; raises what ended it if it failed."""
        self.check()
        return self.server_info is not None

    def check(self) -> None:
        """Raises a copy of the connection's failure, if it failed."""
        if self.error is not None:
            error = self.error
            raise type(error)(error.code, error.message, error.details, from_server=error.from_server)

    # --- internals -----------------------------------------------------------------------

    def _receive(self, frame: P.Frame) -> list[Call]:
        if self.server_info is None:
            return self._receive_hello_reply(frame)
        body = frame.WhichOneof("body")
        if frame.call_id == 0:
            if body == "status":
                return self.fail(P.connection_error(frame.status))
            return []
        call = self._calls.get(frame.call_id)
        if call is None:
            return []  # a call we cancelled and forgot
        if not call.abandoned:
            call.frames.append(frame)
        if body == "status":
            call.state = CallState.ENDED
            del self._calls[frame.call_id]
            self._admit_waiting()
        return [call]

    def _receive_hello_reply(self, frame: P.Frame) -> list[Call]:
        try:
            info = P.parse_hello_reply(frame)
        except LogbookError as error:
            return self.fail(error)
        self.server_info = info
        self._decoder.frame_bytes_max = P.incoming_limit(info)
        self.outgoing_frame_bytes_max = P.outgoing_limit(info)
        self._open_calls_max = info.limits.open_calls_per_connection_max or None
        self._admit_waiting()
        return []

    def _has_slot(self) -> bool:
        if self.server_info is None:
            return False  # the limits come with the HelloReply
        return self._open_calls_max is None or len(self._calls) < self._open_calls_max

    def _admit_waiting(self) -> None:
        while self._waiting and self._has_slot():
            call = self._waiting.popleft()
            held, call._held = call._held, []
            self._open(call, *held)

    def _open(self, call: Call, *data: bytes) -> None:
        call.state = CallState.OPEN
        self._calls[call.call_id] = call
        self._outbox.extend(data)
