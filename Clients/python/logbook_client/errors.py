"""Errors of Logbook calls: a status code (the gRPC set, same numbers), a message, details.

Every call that the server refuses raises the `LogbookError` subclass for its `Status.code`
(`WrongExpectedRevision` for a FAILED_PRECONDITION that carries a wrong-expected-revision
detail; `StreamDeletedNotFound` and `StreamDeletedFailedPrecondition`, both `StreamDeleted`,
for a NOT_FOUND or a FAILED_PRECONDITION that carries a stream-deleted detail). Errors the
client raises itself use the same classes, with `from_server` False: bad input it refuses
before sending (`InvalidArgument`, `ResourceExhausted`) and a daemon that cannot be reached
or a connection that broke (`Unavailable`).

`safe_to_retry` says whether the call may simply be made again. It is true when the client
knows the call had no effect, or that doing it twice is harmless: a call that was never sent;
a read, query, subscription or admin read (list, info, stream metadata) whose connection
broke; an append (its event ids make a repeat answer with the original positions). It is
false for an admin change (create/update/delete/reset a group, define/drop a view, replay
parked, delete a stream or set its metadata) in flight when the connection broke, whose
effect may or may not have happened, and for every refusal by the server.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, Union

if TYPE_CHECKING:
    from .types import Expected

__all__ = [
    "Code",
    "WrongExpectedRevisionDetail",
    "EventIdConflictDetail",
    "LimitExceededDetail",
    "BadFieldDetail",
    "StreamDeletedDetail",
    "Detail",
    "LogbookError",
    "Cancelled",
    "UnknownError",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "WrongExpectedRevision",
    "StreamDeleted",
    "StreamDeletedNotFound",
    "StreamDeletedFailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "InternalError",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
]


class Code(enum.IntEnum):
    """The status codes of the wire protocol: gRPC's, with the same numbers."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


@dataclass(frozen=True)
class WrongExpectedRevisionDetail:
    """An append's expected revision did not match the stream."""

    stream: str
    #: What the append expected: ANY, NO_STREAM, STREAM_EXISTS or a revision (int).
    expected: Expected
    #: The stream's last revision, or None when the stream does not exist.
    actual: int | None


@dataclass(frozen=True)
class EventIdConflictDetail:
    """An event id is already stored somewhere other than where the append puts it."""

    event_id: uuid.UUID | None
    stream: str
    revision: int


@dataclass(frozen=True)
class LimitExceededDetail:
    """A request went past one of the server's (or the client's) limits."""

    limit: str
    value: int
    max: int


@dataclass(frozen=True)
class BadFieldDetail:
    """A request field holds a value that is not accepted."""

    field: str
    reason: str


@dataclass(frozen=True)
class StreamDeletedDetail:
    """The stream was deleted: a read of it (NOT_FOUND), or an append or a delete refused
    because it was deleted for good (FAILED_PRECONDITION)."""

    stream: str
    #: Deleted for good (tombstoned): it can never be written again. False: soft-deleted,
    #: an append (ANY or NO_STREAM) recreates it.
    hard: bool


Detail = Union[
    WrongExpectedRevisionDetail, EventIdConflictDetail, LimitExceededDetail, BadFieldDetail, StreamDeletedDetail
]


class LogbookError(Exception):
    """A Logbook call failed: the server refused it, or it could not be carried out."""

    #: The code this class stands for; LogbookError itself takes any.
    default_code: Code = Code.UNKNOWN

    def __init__(
        self,
        code: Code | int | None = None,
        message: str = "",
        details: Detail | None = None,
        *,
        from_server: bool = False,
        safe_to_retry: bool = False,
    ) -> None:
        if code is None:
            code = self.default_code
        try:
            code = Code(code)
        except ValueError:
            pass  # a number outside the set (a newer server): kept as a plain int
        self.code = code
        self.message = message
        self.details = details
        #: True when the server answered the call with this status.
        self.from_server = from_server
        #: True when making the same call again is safe (see the module docstring).
        self.safe_to_retry = safe_to_retry
        super().__init__(code, message, details)

    @property
    def code_name(self) -> str:
        return self.code.name if isinstance(self.code, Code) else f"CODE_{self.code}"

    def __str__(self) -> str:
        text = f"{self.code_name}: {self.message}" if self.message else self.code_name
        if self.details is not None:
            text += f" ({self.details})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code_name}, message={self.message!r}, "
            f"details={self.details!r}, from_server={self.from_server}, safe_to_retry={self.safe_to_retry})"
        )

    def copy(self) -> Self:
        """A new exception of the same class and contents (each caller raises its own)."""
        return type(self)(
            self.code, self.message, self.details, from_server=self.from_server, safe_to_retry=self.safe_to_retry
        )

    def __reduce__(self) -> tuple[Any, ...]:  # keeps the keyword arguments through pickling
        return (_rebuild, (type(self), int(self.code), self.message, self.details, self.from_server, self.safe_to_retry))


def _rebuild(
    cls: type[LogbookError], code: int, message: str, details: Detail | None, from_server: bool, safe_to_retry: bool
) -> LogbookError:
    return cls(code, message, details, from_server=from_server, safe_to_retry=safe_to_retry)


class Cancelled(LogbookError):
    default_code = Code.CANCELLED


class UnknownError(LogbookError):
    default_code = Code.UNKNOWN


class InvalidArgument(LogbookError):
    default_code = Code.INVALID_ARGUMENT


class DeadlineExceeded(LogbookError):
    default_code = Code.DEADLINE_EXCEEDED


class NotFound(LogbookError):
    default_code = Code.NOT_FOUND


class AlreadyExists(LogbookError):
    """An event id is already stored elsewhere (details: EventIdConflictDetail), or a
    group or view of that name exists."""

    default_code = Code.ALREADY_EXISTS


class PermissionDenied(LogbookError):
    default_code = Code.PERMISSION_DENIED


class ResourceExhausted(LogbookError):
    default_code = Code.RESOURCE_EXHAUSTED


class FailedPrecondition(LogbookError):
    default_code = Code.FAILED_PRECONDITION


class WrongExpectedRevision(FailedPrecondition):
    """An append's expected revision did not match; nothing of that append was written."""

    @property
    def stream(self) -> str:
        return self.details.stream if isinstance(self.details, WrongExpectedRevisionDetail) else ""

    @property
    def expected(self) -> Expected | None:
        return self.details.expected if isinstance(self.details, WrongExpectedRevisionDetail) else None

    @property
    def actual(self) -> int | None:
        """The stream's last revision; None when the stream does not exist."""
        return self.details.actual if isinstance(self.details, WrongExpectedRevisionDetail) else None


class StreamDeleted(LogbookError):
    """The call met a deleted stream (details: StreamDeletedDetail). Never raised as itself:
    a read of a deleted stream raises `StreamDeletedNotFound` (a `NotFound`), an append to
    (or a delete of) a stream deleted for good `StreamDeletedFailedPrecondition` (a
    `FailedPrecondition`); `except StreamDeleted` catches both."""

    @property
    def stream(self) -> str:
        return self.details.stream if isinstance(self.details, StreamDeletedDetail) else ""

    @property
    def hard(self) -> bool:
        """Whether the stream was deleted for good (tombstoned)."""
        return self.details.hard if isinstance(self.details, StreamDeletedDetail) else False


class StreamDeletedNotFound(NotFound, StreamDeleted):
    """A read of a deleted stream: soft-deleted (`hard` False; an append recreates it) or
    deleted for good (`hard` True)."""


class StreamDeletedFailedPrecondition(FailedPrecondition, StreamDeleted):
    """An append to, or a delete of, a stream deleted for good (tombstoned: `hard` True)."""


class Aborted(LogbookError):
    default_code = Code.ABORTED


class OutOfRange(LogbookError):
    default_code = Code.OUT_OF_RANGE


class Unimplemented(LogbookError):
    default_code = Code.UNIMPLEMENTED


class InternalError(LogbookError):
    default_code = Code.INTERNAL


class Unavailable(LogbookError):
    """The daemon cannot be reached, or the connection broke."""

    default_code = Code.UNAVAILABLE


class DataLoss(LogbookError):
    default_code = Code.DATA_LOSS


class Unauthenticated(LogbookError):
    default_code = Code.UNAUTHENTICATED


_CLASSES: dict[int, type[LogbookError]] = {
    cls.default_code: cls
    for cls in (
        Cancelled,
        UnknownError,
        InvalidArgument,
        DeadlineExceeded,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        ResourceExhausted,
        FailedPrecondition,
        Aborted,
        OutOfRange,
        Unimplemented,
        InternalError,
        Unavailable,
        DataLoss,
        Unauthenticated,
    )
}


def error_for(
    code: int, message: str, details: Detail | None = None, *, from_server: bool = False
) -> LogbookError:
    """The exception for a status code, of the most specific class."""
    cls: type[LogbookError]
    if code == Code.FAILED_PRECONDITION and isinstance(details, WrongExpectedRevisionDetail):
        cls = WrongExpectedRevision
    elif code == Code.FAILED_PRECONDITION and isinstance(details, StreamDeletedDetail):
        cls = StreamDeletedFailedPrecondition
    elif code == Code.NOT_FOUND and isinstance(details, StreamDeletedDetail):
        cls = StreamDeletedNotFound
    else:
        cls = _CLASSES.get(code, LogbookError)
    return cls(code, message, details, from_server=from_server)
