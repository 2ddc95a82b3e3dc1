"""The `eventsourcing` library's recorders, mapped onto Logbook's own features.

How the library's records live in Logbook (`ns` is the namespace: `$LOGBOOK_NAMESPACE`, else
the application's name, else ``eventsourcing``; a ``-`` in it becomes ``_``):

- An aggregate sequence is a stream ``{ns}.events-{originator_id}`` (snapshots:
  ``{ns}.snapshots-{originator_id}``), so the category ``{ns}.events`` holds one
  application's events. Each stored event is one Logbook event: type = the topic,
  data = the (possibly compressed/encrypted) state bytes, metadata ``es_version`` = the
  originator version. Stream revisions count events from 0; versions are whatever the
  library says (they start at 1, may start at 0, and snapshots skip), so the version is
  kept in metadata and never derived from the revision.
- Version conflicts use expected revisions: an insert appends with ``exact(head revision)``
  (``no_stream`` for a new aggregate) after checking that its first version is above the
  head's version, so two writers of the same version cannot both succeed. A wrong expected
  revision, a version not above the head, or an event id used elsewhere raise the library's
  ``IntegrityError``. Heads are cached per recorder (from its own appends and reads); a
  stale head costs one conflict, one read of the real head and one retry.
- ``insert_events`` with several aggregates (and, for a process recorder, the tracking
  record) is one atomic multi-stream Append.
- Notification ids are Logbook's global positions (gap-free, commit order). They are
  contiguous for an application alone on its daemon; with several applications (or process
  recorders' tracking records) on one daemon, an application's ids have gaps, which the
  library tolerates (``EXPECT_CONTIGUOUS_NOTIFICATION_IDS`` only matters to its tests).
  ``select_notifications`` reads the category from a position with a limit, stop and an
  event-type filter for topics; ``subscribe`` is a catch-up subscription on the category.
- Tracking records are events in ``{ns}.tracking-{upstream application}`` with metadata
  ``es_tracking`` = the notification id, appended with an exact expected revision after
  checking the id is above the last one (and, in a process recorder, in the same Append as
  the events). ``max_tracking_id`` reads the stream's last event. A tracking stream grows
  by one event per processed notification, so after a recorder's first append to one it
  sets the stream's ``max_count`` (``_TRACKING_MAX_COUNT``): only its newest few events stay
  visible, which is all a reader needs. A daemon that cannot bound streams (the PostgreSQL
  store, for now) answers Unimplemented; the recorder then stops asking and the streams
  stay whole. A failed or refused bound never fails the insert, whose append has committed.
- What a relational store has and Logbook does not: inserting a version *below* an
  aggregate's head version (one that was never written) is refused with IntegrityError
  rather than inserted out of order, since a stream is append-only.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    DatabaseError,
    IntegrityError,
    Notification,
    OperationalError,
    ProcessRecorder,
    ProgrammingError,
    StoredEvent,
    Subscription,
    Tracking,
    TrackingRecorder,
    WaitInterruptedError,
)

import logbook_client
from logbook_client._connection import Backoff
from logbook_client import (
    NO_STREAM,
    START,
    AlreadyExists,
    Client,
    EventData,
    LogbookError,
    PermissionDenied,
    Position,
    RecordedEvent,
    StreamAppend,
    Unimplemented,
    WrongExpectedRevision,
)

VERSION_KEY = "es_version"
TRACKING_KEY = "es_tracking"
TRACKING_TYPE = "eventsourcing.Tracking"

_HEAD_CACHE_MAX = 100_000
#: The tracking events left visible in each tracking stream (its `max_count`). The stream
#: gains one event per processed notification, for ever, but readers only need the newest:
#: `_max_tracking_id` (and `wait`, and a conflict's retry) read one event backwards. A few
#: more than one are kept for whoever inspects the stream (`logbook read`).
_TRACKING_MAX_COUNT = 10
#: How often a read is made when the connection is lost under it, or the daemon refuses it
#: as it shuts down: a few times, a back-off apart (the client waits for the daemon to come
#: back, up to its reconnect wait, each time).
_READ_ATTEMPTS = 4

R = TypeVar("R")

logger = logging.getLogger("logbook_client")


def _retried(read: Callable[[], R]) -> R:
    """`read()`, made again if the connection was lost under it. A read is safe to make
    again (the error says so), so an application keeps serving across a daemon restart;
    appends need nothing of this: the client sends them again itself, with the same ids."""
    backoff = Backoff()
    for attempt in range(1, _READ_ATTEMPTS + 1):
        try:
            return read()
        except logbook_client.Unavailable as error:
            if not error.safe_to_retry or attempt == _READ_ATTEMPTS:
                raise
            time.sleep(backoff.delay(attempt - 1, random.random()))
    raise AssertionError("unreachable")


@contextmanager
def _translated() -> Iterator[None]:
    """Logbook's errors as the library's (PEP 249-style) persistence errors."""
    try:
        yield
    except (WrongExpectedRevision, AlreadyExists) as error:
        raise IntegrityError(str(error)) from error
    except (logbook_client.Unavailable, logbook_client.DeadlineExceeded, logbook_client.ResourceExhausted) as error:
        raise OperationalError(str(error)) from error
    except (logbook_client.InvalidArgument, logbook_client.Unimplemented) as error:
        raise ProgrammingError(str(error)) from error
    except LogbookError as error:
        raise DatabaseError(str(error)) from error


def namespace_for(name: str) -> str:
    """A namespace usable as the first part of a category: no '-', no leading '$'."""
    name = (name or "eventsourcing").replace("-", "_")
    return name.lstrip("$") or "eventsourcing"


@dataclass
class _Part:
    """One stream's share of an atomic append: its events and the markers (versions, or
    tracking ids) they carry, which must all be above the stream's head marker."""

    stream: str
    events: list[EventData]
    first: int
    last: int
    indexes: list[int]  # where each event came from in the caller's sequence


class _LogbookRecorder:
    def __init__(
        self,
        client: Client,
        namespace: str = "eventsourcing",
        *,
        purpose: str = "events",
        originator_id_type: str = "uuid",
    ) -> None:
        self.client = client
        self.namespace = namespace_for(namespace)
        self.category = f"{self.namespace}.{purpose}"
        self.tracking_category = f"{self.namespace}.tracking"
        self.uuid_ids = originator_id_type.lower() == "uuid"
        # stream → (last revision, last marker) as last seen; an absent key is unknown.
        self._heads: dict[str, tuple[int, int]] = {}
        self._heads_lock = threading.Lock()
        # Tracking streams this recorder has bounded (or is bounding), under _heads_lock.
        self._bounded: set[str] = set()
        # Set when the daemon cannot bound streams (Unimplemented): none is asked again.
        self._bounds_unsupported = False

    # --- names -----------------------------------------------------------------------

    def stream_for(self, originator_id: uuid.UUID | str) -> str:
        return f"{self.category}-{originator_id}"

    def tracking_stream_for(self, application_name: str) -> str:
        return f"{self.tracking_category}-{application_name}"

    def _is_tracking(self, stream: str) -> bool:
        return stream.startswith(self.tracking_category + "-")

    def originator_id_from(self, stream: str) -> uuid.UUID | str:
        text = stream[len(self.category) + 1 :]
        if self.uuid_ids:
            try:
                parsed = uuid.UUID(text)
            except ValueError:
                return text
            if str(parsed) == text:
                return parsed
        return text

    # --- heads -----------------------------------------------------------------------

    def _remember(self, stream: str, revision: int, marker: int) -> None:
        with self._heads_lock:
            if len(self._heads) >= _HEAD_CACHE_MAX:
                self._heads.clear()
            known = self._heads.get(stream)
            if known is None or known[0] < revision:
                self._heads[stream] = (revision, marker)

    def _forget(self, stream: str) -> None:
        with self._heads_lock:
            self._heads.pop(stream, None)

    def _read_head(self, stream: str, key: str) -> tuple[int, int] | None:
        """The stream's last revision and marker, from the server (None: no stream)."""

        def read() -> tuple[int, int] | None:
            with self.client.read(stream, backwards=True, limit=1) as events:
                for event in events:
                    return (event.revision, _marker(event, key))
            return None

        head = _retried(read)
        if head is not None:
            self._remember(stream, *head)
        return head

    # --- the atomic append -----------------------------------------------------------

    def _commit(self, parts: list[_Part]) -> list[logbook_client.AppendResult]:
        """Appends every part in one atomic Append with exact expected revisions."""
        fresh: dict[str, tuple[int, int] | None] = {}
        for attempt in range(2):
            appends = []
            for part in parts:
                if part.stream in fresh:
                    head = fresh[part.stream]
                else:
                    with self._heads_lock:
                        head = self._heads.get(part.stream)
                # Unknown head: guess a new stream (the common case for an unseen aggregate);
                # if it exists the Append fails and the real head is read.
                if head is None:
                    expected: Any = NO_STREAM
                else:
                    revision, marker = head
                    if part.first <= marker:
                        raise IntegrityError(
                            f"{part.stream}: {part.first} is not above {marker}, the last recorded"
                        )
                    expected = revision
                appends.append(StreamAppend(part.stream, part.events, expected))
            try:
                return self._append(appends, parts)
            except WrongExpectedRevision as error:
                for part in parts:
                    self._forget(part.stream)
                if attempt == 1:
                    raise IntegrityError(str(error)) from error
                with _translated():
                    for part in parts:
                        key = TRACKING_KEY if self._is_tracking(part.stream) else VERSION_KEY
                        fresh[part.stream] = self._read_head(part.stream, key)
        raise AssertionError("unreachable")

    def _append(self, appends: list[StreamAppend], parts: list[_Part]) -> list[logbook_client.AppendResult]:
        try:
            results = self.client.append_many(appends)
        except WrongExpectedRevision:
            raise
        except AlreadyExists as error:
            raise IntegrityError(str(error)) from error
        except LogbookError as error:
            with _translated():
                raise error
            raise  # pragma: no cover
        for part, result in zip(parts, results):
            self._remember(part.stream, result.last_revision, part.last)
        for part in parts:
            if self._is_tracking(part.stream):
                self._bound_tracking_stream(part.stream)
        return results

    def _bound_tracking_stream(self, stream: str) -> None:
        """Sets a tracking stream's max_count, once per stream for this recorder (see
        `_TRACKING_MAX_COUNT`). Best effort: the append it follows has committed, so no
        error of it reaches the caller; one that may pass is tried again after the next
        append, one that will not (Unimplemented, PermissionDenied) is not."""
        with self._heads_lock:
            if self._bounds_unsupported or stream in self._bounded:
                return
            if len(self._bounded) >= _HEAD_CACHE_MAX:
                self._bounded.clear()
            self._bounded.add(stream)  # claimed: another thread appending to it does not ask too
        settled = False
        try:
            self.client.set_stream_metadata(stream, max_count=_TRACKING_MAX_COUNT)
            settled = True
        except Unimplemented as error:
            self._bounds_unsupported = settled = True
            logger.info("the daemon cannot bound streams (%s): tracking streams are left whole", error)
        except PermissionDenied as error:
            settled = True
            logger.info("tracking stream %s is left whole: %s", stream, error)
        except LogbookError as error:
            logger.info("tracking stream %s was not bounded (tried again after its next append): %s", stream, error)
        finally:
            if not settled:
                with self._heads_lock:
                    self._bounded.discard(stream)

    def _event_parts(self, stored_events: Sequence[StoredEvent]) -> list[_Part]:
        by_stream: dict[str, list[tuple[int, StoredEvent]]] = {}
        for index, stored in enumerate(stored_events):
            by_stream.setdefault(self.stream_for(stored.originator_id), []).append((index, stored))
        parts = []
        for stream, items in by_stream.items():
            items.sort(key=lambda item: item[1].originator_version)
            versions = [stored.originator_version for _, stored in items]
            if len(set(versions)) != len(versions):
                raise IntegrityError(f"{stream}: the same version twice in one insert: {versions}")
            events = [
                EventData(
                    type=stored.topic,
                    data=bytes(stored.state),
                    metadata={VERSION_KEY: str(stored.originator_version)},
                )
                for _, stored in items
            ]
            parts.append(_Part(stream, events, versions[0], versions[-1], [i for i, _ in items]))
        return parts

    def _tracking_part(self, tracking: Tracking) -> _Part:
        event = EventData(type=TRACKING_TYPE, metadata={TRACKING_KEY: str(tracking.notification_id)})
        stream = self.tracking_stream_for(tracking.application_name)
        return _Part(stream, [event], tracking.notification_id, tracking.notification_id, [])

    def _insert(self, stored_events: Sequence[StoredEvent], tracking: Tracking | None) -> list[int]:
        """Appends events (and a tracking record) atomically; their notification ids."""
        parts = self._event_parts(stored_events)
        if tracking is not None:
            parts.append(self._tracking_part(tracking))
        if not parts:
            return []
        results = self._commit(parts)
        ids = [0] * len(stored_events)
        for part, result in zip(parts, results):
            for index, position in zip(part.indexes, result.positions):
                ids[index] = position
        return ids

    # --- tracking --------------------------------------------------------------------

    def _max_tracking_id(self, application_name: str) -> int | None:
        with _translated():
            head = self._read_head(self.tracking_stream_for(application_name), TRACKING_KEY)
        return None if head is None else head[1]


def _marker(event: RecordedEvent, key: str) -> int:
    value = event.metadata.get(key)
    return int(value) if value is not None else event.revision


class LogbookAggregateRecorder(_LogbookRecorder, AggregateRecorder):
    """Aggregate sequences as streams (see the module's notes)."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        self._insert(stored_events, None)
        return None

    def select_events(
        self,
        originator_id: uuid.UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        stream = self.stream_for(originator_id)
        if limit is not None and limit <= 0:
            return []
        with _translated():
            return _retried(lambda: self._select_events(stream, originator_id, gt, lte, desc, limit))

    def _select_events(
        self,
        stream: str,
        originator_id: uuid.UUID | str,
        gt: int | None,
        lte: int | None,
        desc: bool,
        limit: int | None,
    ) -> list[StoredEvent]:
        selected: list[StoredEvent] = []
        if desc or gt is not None:
            # From the end: a snapshot's later events, the last snapshot, the head.
            with self.client.read(stream, backwards=True) as events:
                first = True
                for event in events:
                    version = _marker(event, VERSION_KEY)
                    if first:
                        self._remember(stream, event.revision, version)
                        first = False
                    if lte is not None and version > lte:
                        continue
                    if gt is not None and version <= gt:
                        break
                    selected.append(self._stored(originator_id, event, version))
                    if desc and limit is not None and len(selected) == limit:
                        break
            if not desc:
                selected.reverse()
                if limit is not None:
                    del selected[limit:]
        else:
            server_limit = limit if lte is None else None
            last: RecordedEvent | None = None
            complete = True
            with self.client.read(stream, limit=server_limit) as events:
                for event in events:
                    version = _marker(event, VERSION_KEY)
                    if lte is not None and version > lte:
                        complete = False
                        break
                    last = event
                    selected.append(self._stored(originator_id, event, version))
                    if limit is not None and len(selected) == limit:
                        complete = False
                        break
            if complete and last is not None:
                self._remember(stream, last.revision, _marker(last, VERSION_KEY))
        return selected

    @staticmethod
    def _stored(originator_id: uuid.UUID | str, event: RecordedEvent, version: int) -> StoredEvent:
        return StoredEvent(originator_id=originator_id, originator_version=version, topic=event.type, state=event.data)


class LogbookApplicationRecorder(LogbookAggregateRecorder, ApplicationRecorder):
    """An application sequence: the category's events in `$all` order (positions as ids)."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        return self._insert(stored_events, None)

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        if start is None:
            start, inclusive_of_start = 1, True
        if not inclusive_of_start:
            start += 1
        start = max(start, 1)
        if limit <= 0 or (stop is not None and stop < start):
            return []
        first = start

        def select() -> list[Notification]:
            notifications: list[Notification] = []
            reader = self.client.read(
                category=self.category,
                from_=Position(first),
                limit=limit,
                event_types=list(topics) or None,
            )
            with reader:
                for event in reader:
                    if stop is not None and event.position > stop:
                        break
                    notifications.append(self._notification(event))
            return notifications

        with _translated():
            return _retried(select)

    def _notification(self, event: RecordedEvent) -> Notification:
        return Notification(
            id=event.position,
            originator_id=self.originator_id_from(event.stream),
            originator_version=_marker(event, VERSION_KEY),
            topic=event.type,
            state=event.data,
        )

    def max_notification_id(self) -> int | None:
        def last() -> int | None:
            with self.client.read(category=self.category, backwards=True, limit=1) as events:
                for event in events:
                    return event.position
            return None

        with _translated():
            return _retried(last)

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Subscription[ApplicationRecorder]:
        return LogbookSubscription(self, gt=gt, topics=topics)


class LogbookSubscription(Subscription[LogbookApplicationRecorder]):
    """A catch-up subscription on the application's category, on a connection of its own
    (so that `stop()` from any thread ends a blocked iteration at once)."""

    def __init__(self, recorder: LogbookApplicationRecorder, gt: int | None = None, topics: Sequence[str] = ()) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        with _translated():
            self._client = Client(recorder.client.socket_path, client_name="eventsourcing-subscription")
        self._lock = threading.Lock()
        self._subscription = self._client.subscribe(
            category=recorder.category,
            from_=Position(gt) if gt else START,  # a subscription starts after its Position
            event_types=list(topics) or None,
        )

    def stop(self) -> None:
        with self._lock:
            if not self._has_been_stopped:
                super().stop()
                self._client.close()

    def __next__(self) -> Notification:
        while True:
            if self._has_been_stopped:
                raise StopIteration
            try:
                item = next(self._subscription)
            except StopIteration:
                self.stop()
                raise
            except LogbookError as error:
                if self._has_been_stopped:
                    raise StopIteration from None
                self.stop()
                with _translated():
                    raise error
            if isinstance(item, RecordedEvent):
                if self._has_been_stopped:
                    raise StopIteration
                self._last_notification_id = item.position
                return self._recorder._notification(item)


class LogbookTrackingRecorder(_LogbookRecorder, TrackingRecorder):
    """Tracking records as events in one stream per upstream application."""

    def insert_tracking(self, tracking: Tracking) -> None:
        self._commit([self._tracking_part(tracking)])

    def max_tracking_id(self, application_name: str) -> int | None:
        return self._max_tracking_id(application_name)

    def wait(
        self,
        application_name: str,
        notification_id: int | None,
        timeout: float = 1.0,
        interrupt: threading.Event | None = None,
    ) -> None:
        """Polls the tracking stream's head (a read of one event), from 5 ms backing off to
        100 ms, until it reaches `notification_id`; TimeoutError or WaitInterruptedError."""
        deadline = time.monotonic() + timeout
        interval = 0.005
        while not self.has_tracking_id(application_name, notification_id):
            remaining = deadline - time.monotonic()
            if remaining < 0:
                raise TimeoutError(
                    f"Timed out waiting for notification {notification_id} "
                    f"from application '{application_name}' to be processed"
                )
            pause = min(interval, max(remaining, 0.0) + 0.001)
            if interrupt is not None:
                if interrupt.wait(pause):
                    raise WaitInterruptedError
            else:
                time.sleep(pause)
            interval = min(interval * 2, 0.1)


class LogbookProcessRecorder(LogbookTrackingRecorder, LogbookApplicationRecorder, ProcessRecorder):
    """Events and their tracking record in one atomic multi-stream Append."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        return self._insert(stored_events, kwargs.get("tracking"))


__all__ = [
    "LogbookAggregateRecorder",
    "LogbookApplicationRecorder",
    "LogbookProcessRecorder",
    "LogbookSubscription",
    "LogbookTrackingRecorder",
    "TRACKING_KEY",
    "VERSION_KEY",
]
