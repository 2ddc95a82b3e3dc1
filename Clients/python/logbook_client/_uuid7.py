"""Time-ordered UUIDs, version 7 (RFC 9562), as the Swift client makes them.

```
byte  0 … 5                     6           7           8           9 … 15
      unix ms (48 bits, BE)     0111 cccc   cccc cccc   10rr rrrr   r … r
                                version 7   12-bit counter  variant  62 random bits
```

The counter orders ids made in the same millisecond (the RFC's "method 1"). In a new
millisecond it starts at a random seed below half its range; when it runs out (or the
wall clock steps back) the time field moves on by one millisecond, so ids one process
makes are strictly increasing. The daemon's event-id index appends at its end instead of
scattering inserts (DESIGN §4).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

__all__ = ["uuid7"]

_COUNTER_MAX = 0xFFF
_lock = threading.Lock()
_last_millis = 0
_counter = 0


def _next_fields(now_millis: int) -> tuple[int, int]:
    global _last_millis, _counter
    with _lock:
        if now_millis > _last_millis:
            _last_millis = now_millis
            _counter = int.from_bytes(os.urandom(2), "big") % (_COUNTER_MAX // 2)
        elif _counter < _COUNTER_MAX:
            _counter += 1
        else:
            _last_millis += 1
            _counter = 0
        return _last_millis, _counter


def uuid7() -> uuid.UUID:
    """A new UUIDv7, greater than every one this process made before."""
    millis, counter = _next_fields(time.time_ns() // 1_000_000)
    random_bits = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (
        (millis & ((1 << 48) - 1)) << 80
        | 0x7 << 76
        | counter << 64
        | 0b10 << 62
        | random_bits
    )
    return uuid.UUID(int=value)


def _reset_for_fork() -> None:
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_for_fork)
