"""The clients' connection to logbookd without I/O: what to send, what arrived for which
call, and what to do when the socket is lost.

Both clients drive a `Connection` (sans-I/O): they hand it the bytes they read
(`receive_data`), send the bytes it queues (`data_to_send`), open a new socket when it says
so (`reconnect_in`, then `connecting`) and wait for it to have news for a call. Everything
else lives here once: the handshake, the framing, the call table, the call slots the server
allows, Cancel, deadlines while the daemon is away, and the decisions a lost socket calls for.

One `Connection` outlives its sockets. The first socket's failure ends it (a client that
never reached the daemon fails fast); after a handshake succeeded once, a lost socket puts it
`DOWN`, and the client connects again after a jittered back-off:

```
  CONNECTING ──HelloReply──▶ READY ──socket lost──▶ DOWN ──back-off, new socket──▶ CONNECTING
      │ (first socket only)                           ▲ │                             │
      └── fails ──▶ CLOSED ◀── close() ───────────────┘ └──── attempt failed ◀─────────┘
```

What a lost socket does to a call depends on where the call stood:

| the call was                    | after the loss                                            |
| ------------------------------- | --------------------------------------------------------- |
| `WAITING` (never sent)          | waits for the next socket, and is sent on it               |
| `OPEN`, an append (retried)     | waits, and is sent again: same events, same ids, so a commit that happened answers with its positions |
| `OPEN`, anything else           | `ENDED`: raises `Unavailable` with `safe_to_retry` (false for admin changes) |

A call waiting for a socket waits up to its own timeout, else up to the client's
`reconnect_wait`; then it raises `Unavailable` ("could not reach logbookd"). A call's
states:

| state     | meaning                                                          |
| --------- | ---------------------------------------------------------------- |
| `WAITING` | not sent: no socket is ready, or the server's open calls are all taken |
| `OPEN`    | its request is queued or sent; its Status has not arrived        |
| `ENDED`   | its Status arrived, it was cancelled before it was sent, or it failed |

Not thread-safe: the synchronous client holds its lock around every method. Time comes from
`clock` (monotonic seconds) and jitter from `random`, so tests drive both.
"""

from __future__ import annotations

import collections
import enum
import logging
import math
import os
import random as _random
import time
from dataclasses import dataclass
from typing import Callable

from . import _protocol as P
from .errors import Cancelled, Code, LogbookError, Unavailable
from .types import ServerInfo

__all__ = ["Backoff", "Call", "CallState", "Connection", "Status", "default_socket_path"]

#: Where the clients connect when given no path, as the CLI.
DEFAULT_SOCKET = "./logbook.sock"
#: How much one read of the socket asks for: a read batch of small events at once.
RECEIVE_BYTES = 1 << 16
#: How long a call with no timeout waits for the daemon to come back: a restart takes well
#: under a second, a host reboot tens of seconds; past that the caller hears so.
RECONNECT_WAIT = 30.0

logger = logging.getLogger("logbook_client")


def default_socket_path() -> str:
    """`$LOGBOOK_SOCKET`, else `./logbook.sock` (as the CLI)."""
    return os.environ.get("LOGBOOK_SOCKET") or DEFAULT_SOCKET


@dataclass(frozen=True)
class Backoff:
    """The waits between reconnection attempts: `initial` doubled per failed attempt up to
    `maximum`, then between half and all of it, so that many clients of a restarted daemon
    spread out (the Swift client's `ClientLimits.reconnectBackoff…`)."""

    #: A restarted daemon is back within tens of milliseconds.
    initial: float = 0.05
    #: A daemon that is down is not hammered, and one that comes back is found within seconds.
    maximum: float = 2.0

    def delay(self, failures: int, jitter: float) -> float:
        """The wait after `failures` attempts in a row failed (0: the socket was just lost);
        `jitter` is in [0, 1)."""
        step: float = min(self.initial * 2.0 ** min(failures, 30), self.maximum)
        return step * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))


class Status(enum.Enum):
    CONNECTING = "saying hello"
    READY = "ready"
    DOWN = "waiting to reconnect"
    CLOSED = "closed"


class CallState(enum.Enum):
    WAITING = "waiting to be sent"
    OPEN = "open"
    ENDED = "ended"


class Call:
    """One call: its id, its state, the frames that came for it, and what a lost socket
    does to it."""

    __slots__ = (
        "call_id", "state", "frames", "abandoned", "error", "request", "safe_to_retry", "resend",
        "deadline", "sent", "attempts", "_held", "_wait_limit",
    )  # fmt: skip

    def __init__(self, call_id: int, request: P.Frame, *, safe_to_retry: bool, resend: bool) -> None:
        self.call_id = call_id
        self.state = CallState.WAITING
        #: Frames that came for the call and were not taken yet (its Status last).
        self.frames: collections.deque[P.Frame] = collections.deque()
        #: Cancelled by the client: whatever else comes for it is dropped.
        self.abandoned = False
        #: Why the call ended without a Status; raised (a copy) once its frames are taken.
        self.error: LogbookError | None = None
        self.request = request
        #: Whether a loss while it is open leaves it safe to send again (see LogbookError).
        self.safe_to_retry = safe_to_retry
        #: Whether a loss while it is open sends it again on the next socket (appends).
        self.resend = resend
        #: When its timeout runs out (the clock's time); None without a timeout.
        self.deadline: float | None = None
        #: Whether its request went to a socket at least once.
        self.sent = False
        #: How many times its request went to a socket.
        self.attempts = 0
        # While WAITING: the request, and any frame sent on the call, in order.
        self._held: list[bytes] = []
        # While waiting for a socket: when it gives up.
        self._wait_limit: float | None = None

    def __repr__(self) -> str:
        return f"Call({self.call_id}, {self.state.name}{', abandoned' if self.abandoned else ''})"


class Connection:
    """The client's connection across its sockets; see the module docstring."""

    def __init__(
        self,
        client_name: str,
        *,
        reconnect_wait: float | None = RECONNECT_WAIT,
        retry_appends: bool = True,
        backoff: Backoff = Backoff(),
        address: str = "logbookd",
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self.client_name = client_name
        #: How long a call with no timeout waits for a socket; None: for ever.
        self.reconnect_wait = reconnect_wait
        #: Whether appends open at a loss are sent again (with the same event ids).
        self.retry_appends = retry_appends
        self.backoff = backoff
        #: What to call the daemon in messages (its socket path).
        self.address = address
        self._clock = clock
        self._random = random
        self.status = Status.CONNECTING
        #: What the server said in its last HelloReply; None until a handshake is done.
        self.server_info: ServerInfo | None = None
        #: Why the connection closed for good (CLOSED); every later call raises a copy.
        self.error: LogbookError | None = None
        #: The largest request frame the server takes (None: unknown, no check).
        self.outgoing_frame_bytes_max: int | None = None
        #: Sockets the connection had: 1 for the first, +1 per reconnection attempt.
        self.generation = 1
        #: Reconnections made, and calls sent again after a loss (for logs and tests).
        self.reconnections = 0
        self.calls_resent = 0
        self._open_calls_max: int | None = None
        self._decoder = P.FrameDecoder()
        self._outbox: list[bytes] = [P.encode_frame(P.hello_frame(client_name))]
        self._calls: dict[int, Call] = {}  # OPEN calls, by id
        self._waiting: collections.deque[Call] = collections.deque()
        self._next_id = 1
        self._failures = 0  # reconnection attempts in a row that failed
        self._lost_at: float | None = None
        self._lost_reason = ""  # why the socket was lost
        self._attempt_error = ""  # why the last attempt to connect again failed
        self._next_attempt: float | None = None

    # --- what the client asks for --------------------------------------------------------

    def start(self, request: P.Frame, *, safe_to_retry: bool = True, resend: bool = False) -> Call:
        """Opens a call: its request is queued at once, or held back (WAITING) until a
        socket is ready and one of the server's call slots (`open_calls_per_connection_max`)
        is free, in order.

        `safe_to_retry`: whether the call may be sent again if a loss leaves its outcome
        unknown (false for admin changes). `resend`: whether a loss sends it again by itself
        (appends, unless the client turned that off). A request the server would refuse by
        closing the connection (too large, not encodable) raises here, and nothing is queued.
        """
        self.check()
        call = Call(self._next_id, request, safe_to_retry=safe_to_retry, resend=resend and self.retry_appends)
        request.call_id = call.call_id
        data = P.encode_frame(request, self.outgoing_frame_bytes_max)
        self._next_id += 1
        now = self._clock()
        if request.timeout_ms:
            call.deadline = now + request.timeout_ms / 1000
        if self.status is Status.READY and not self._waiting and self._has_slot():
            self._open(call, data)
        else:
            call._held.append(data)
            if self.status is not Status.READY:
                self._wait_for_socket(call, now)
            self._waiting.append(call)
        return call

    def send_on(self, call: Call, frame: P.Frame) -> bool:
        """Queues a further frame of a call (Credit, Ack, Nack) after its request. Returns
        False, and sends nothing, when the call has ended (a lost socket ends a
        subscription's call: what it was told no longer applies)."""
        self.check()
        frame.call_id = call.call_id
        if call.state is CallState.ENDED:
            return False
        data = P.encode_frame(frame, self.outgoing_frame_bytes_max)
        if call.state is CallState.WAITING:
            call._held.append(data)
        else:
            self._outbox.append(data)
        return True

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
        elif self.status is Status.READY:
            self._outbox.append(P.encode_frame(P.cancel_frame(call.call_id)))

    def next_frame(self, call: Call) -> P.Frame | None:
        """The call's next frame; None until one comes. Once its frames are taken, a call
        that ended without a Status raises a copy of why."""
        if call.frames:
            return call.frames.popleft()
        if call.error is not None:
            raise call.error.copy()
        if call.abandoned:  # cancelled (perhaps by another thread): nothing more comes
            raise Cancelled(message="the call was cancelled by the client")
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
        """The calls not ended: open, then waiting."""
        return [*self._calls.values(), *self._waiting]

    # --- what the socket says ------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Call]:
        """Takes bytes read from the socket; returns the calls that have news (a frame,
        their end). Empty `data` means the server closed the socket."""
        if self.status not in (Status.CONNECTING, Status.READY):
            return []
        if not data:
            return self._lost(Unavailable(message="the daemon closed the connection"))
        self._decoder.feed(data)
        news: list[Call] = []
        generation = self.generation
        while self.generation == generation and self.status in (Status.CONNECTING, Status.READY):
            try:
                frame = self._decoder.next_frame()
            except LogbookError as error:
                return news + self._lost(error)
            if frame is None:
                break
            news += self._receive(frame)
        return news

    def connection_lost(self, error: BaseException, generation: int | None = None) -> list[Call]:
        """The socket of `generation` (default: the current one) failed; returns the calls
        this ends. A report about an older socket changes nothing."""
        if generation is not None and generation != self.generation:
            return []
        if self.status not in (Status.CONNECTING, Status.READY):
            return []
        return self._lost(Unavailable(message=f"the connection to the daemon broke: {error}"))

    def close(self) -> list[Call]:
        """The client closes the connection; returns the calls that this ends."""
        return self.fail(Unavailable(message="the client is closed"))

    def fail(self, error: LogbookError) -> list[Call]:
        """Closes the connection for good: every call that has not ended raises `error`
        once its frames are taken. Returns those calls (empty if it was closed)."""
        if self.status is Status.CLOSED:
            return []
        self.status = Status.CLOSED
        self.error = error
        ended = self.calls
        for call in ended:
            self._end(call, error)
        self._calls.clear()
        self._waiting.clear()
        self._outbox.clear()
        return ended

    def connected(self) -> bool:
        """True once the handshake is done; raises what ended the connection if it closed."""
        self.check()
        return self.status is Status.READY

    def check(self) -> None:
        """Raises a copy of why the connection closed, if it did."""
        if self.error is not None:
            raise self.error.copy()

    # --- reconnecting --------------------------------------------------------------------

    def reconnect_in(self) -> float | None:
        """Seconds until a new socket should be tried (0: now); None when none is needed:
        the connection is not DOWN, or no call waits for a socket."""
        if self.status is not Status.DOWN or self._next_attempt is None or not self._waiting:
            return None
        return max(0.0, self._next_attempt - self._clock())

    def connecting(self) -> None:
        """The client opened a new socket: Hello goes first on it."""
        if self.status is not Status.DOWN:
            raise RuntimeError(f"connecting while {self.status.name}")
        self.status = Status.CONNECTING
        self.generation += 1
        self._decoder = P.FrameDecoder()
        self._outbox = [P.encode_frame(P.hello_frame(self.client_name))]

    def connect_failed(self, error: BaseException) -> list[Call]:
        """A new socket could not be opened or said no Hello; returns the calls this ends."""
        if self.status is Status.CONNECTING:
            return self._lost(Unavailable(message=f"connecting failed: {error}"))
        return []

    def expire(self) -> list[Call]:
        """Ends the calls that waited for a socket as long as they may; returns them."""
        if self.status is Status.READY or not self._waiting:
            return []
        now = self._clock()
        ended = []
        for call in list(self._waiting):
            if call._wait_limit is not None and now >= call._wait_limit:
                self._waiting.remove(call)
                waited = now - (self._lost_at if self._lost_at is not None else now)
                last = f"; {self._failures} attempt(s), the last: {self._attempt_error}" if self._attempt_error else ""
                self._end(
                    call,
                    Unavailable(
                        message=(
                            f"the daemon could not be reached at {self.address} "
                            f"(connection lost {waited:.1f} s ago: {self._lost_reason}{last})"
                        ),
                        safe_to_retry=True if not call.sent else call.safe_to_retry,
                    ),
                )
                ended.append(call)
        return ended

    def wake_in(self) -> float | None:
        """Seconds until something is due by the clock (a call to expire, an attempt to
        make); None when nothing is."""
        if self.status is Status.READY:
            return None
        times = [c._wait_limit for c in self._waiting if c._wait_limit is not None]
        if self._next_attempt is not None and self.status is Status.DOWN and self._waiting:
            times.append(self._next_attempt)
        if not times:
            return None
        return max(0.0, min(times) - self._clock())

    # --- internals -----------------------------------------------------------------------

    def _receive(self, frame: P.Frame) -> list[Call]:
        if self.status is Status.CONNECTING:
            return self._receive_hello_reply(frame)
        body = frame.WhichOneof("body")
        if frame.call_id == 0:
            if body == "status":
                return self._lost(P.connection_error(frame.status))
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
            return self._lost(error)
        self.server_info = info
        self._decoder.frame_bytes_max = P.incoming_limit(info)
        self.outgoing_frame_bytes_max = P.outgoing_limit(info)
        self._open_calls_max = info.limits.open_calls_per_connection_max or None
        self.status = Status.READY
        if self._lost_at is not None:
            self.reconnections += 1
            logger.info(
                "reconnected to logbookd at %s after %.3f s and %d attempt(s); %d call(s) waiting",
                self.address, self._clock() - self._lost_at, self._failures + 1, len(self._waiting),
            )  # fmt: skip
        self._failures = 0
        self._lost_at = self._next_attempt = None
        for call in self._waiting:
            call._wait_limit = None
        self._admit_waiting()
        return []

    def _lost(self, error: LogbookError) -> list[Call]:
        """The socket is gone (or said something that ends it): decide each call's fate."""
        if self.server_info is None:  # never connected: fail fast
            return self.fail(error)
        now = self._clock()
        first_loss = self._lost_at is None
        if first_loss:
            self._lost_at = now
            self._lost_reason = error.message
            self._attempt_error = ""
            logger.info("lost the connection to logbookd at %s: %s; reconnecting", self.address, error.message)
        else:
            self._failures += 1
            self._attempt_error = error.message
            logger.debug("reconnection attempt %d to %s failed: %s", self._failures, self.address, error.message)
        self.status = Status.DOWN
        self._next_attempt = now + self.backoff.delay(self._failures, self._random())
        self._outbox.clear()
        ended: list[Call] = []
        again: list[Call] = []
        for call in self._calls.values():
            if call.abandoned:
                call.state = CallState.ENDED
            elif call.resend and error.code == Code.UNAVAILABLE:
                request = call.request
                if call.deadline is not None:
                    left = call.deadline - now
                    if left <= 0:
                        self._end(call, self._in_flight_error(call, error))
                        ended.append(call)
                        continue
                    request.timeout_ms = max(1, math.ceil(left * 1000))
                call.state = CallState.WAITING
                call._held = [P.encode_frame(request, self.outgoing_frame_bytes_max)]
                again.append(call)
            else:
                self._end(call, self._in_flight_error(call, error))
                ended.append(call)
        self._calls.clear()
        self._waiting.extendleft(reversed(again))
        for call in self._waiting:
            if call._wait_limit is None:
                self._wait_for_socket(call, now)
        return ended

    def _in_flight_error(self, call: Call, error: LogbookError) -> LogbookError:
        """What a call open at the loss raises: Unavailable, unless the server said why it
        closed the connection (a connection-level Status)."""
        failure = error.copy()
        failure.safe_to_retry = call.safe_to_retry and error.code == Code.UNAVAILABLE
        if failure.code == Code.UNAVAILABLE:
            retry = "safe to retry" if failure.safe_to_retry else "not safe to retry: it may or may not have taken effect"
            failure.message = f"{error.message} while the call was in flight ({retry})"
        return failure

    def _wait_for_socket(self, call: Call, now: float) -> None:
        if call.deadline is not None:
            call._wait_limit = call.deadline
        elif self.reconnect_wait is not None:
            call._wait_limit = now + self.reconnect_wait
        else:
            call._wait_limit = None

    def _end(self, call: Call, error: LogbookError) -> None:
        call.state = CallState.ENDED
        if not call.abandoned:
            call.error = error

    def _has_slot(self) -> bool:
        return self._open_calls_max is None or len(self._calls) < self._open_calls_max

    def _admit_waiting(self) -> None:
        while self._waiting and self.status is Status.READY and self._has_slot():
            call = self._waiting.popleft()
            held, call._held = call._held, []
            if call.sent:
                self.calls_resent += 1
            self._open(call, *held)

    def _open(self, call: Call, *data: bytes) -> None:
        call.state = CallState.OPEN
        call.sent = True
        call.attempts += 1
        self._calls[call.call_id] = call
        self._outbox.extend(data)
