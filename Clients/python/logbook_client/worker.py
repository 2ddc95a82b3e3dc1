"""`ProjectionWorker`: runs a handler for every event of a persistent subscription group, the
loop a projection worker process needs, with its acks and retries (as the Swift client's
`ProjectionWorker`). `logbook_client.aio.ProjectionWorker` is its asyncio twin.

The handler's success acks the event; an exception nacks it with `retry` and the
exception's text as the reason, so it comes again (attempt + 1) after the group's back-off,
and is parked past the group's `max_deliveries`. Events are handled one at a time, in the
order they arrive (under `by_stream`, each stream's in revision order).

Delivery is at-least-once: after a lost connection, a daemon restart or a crash of the
worker process, an event whose ack was not recorded comes again, so a handler must be
idempotent (or keep its own position per stream). A projection whose read model lives in
Logbook returns `ViewWrite`s instead (`writing_views`): they go in the event's ack and the
daemon applies them in the transaction that records it, so the view reflects every event
exactly once, and the handler need not be idempotent.

The worker reconnects by itself: the client resumes the subscription after a daemon
restart, and when the daemon stays away longer than the client's `reconnect_wait` the
worker keeps waiting for it. With OpenTelemetry installed, each event is handled inside a
consumer span whose parent is the span that appended it.
"""

from __future__ import annotations

import inspect
import logging
import threading
from typing import TYPE_CHECKING, Awaitable, Callable, Generic, Sequence, TypeVar

from ._calls import GROUP_CREDIT
from ._tracing import processing_span
from .errors import Unavailable
from .types import Delivery, RecordedEvent, ViewWrite

if TYPE_CHECKING:
    from . import aio
    from .client import Client, Subscription

__all__ = ["AsyncProjectionWorker", "ProjectionWorker"]

logger = logging.getLogger("logbook_client")

#: The longest nack reason sent: the exception's text is for a human reading `parked`.
REASON_CHARS_MAX = 1000

Handler = Callable[[RecordedEvent], "Sequence[ViewWrite] | None"]
AsyncHandler = Callable[[RecordedEvent], "Awaitable[Sequence[ViewWrite] | None] | Sequence[ViewWrite] | None"]


def failure_reason(error: BaseException) -> str:
    """The nack reason for a handler's exception: its type and text, fit for the wire."""
    text = f"{type(error).__name__}: {error}".replace("\x00", "\\0")
    return text[:REASON_CHARS_MAX]


ClientT = TypeVar("ClientT", "Client", "aio.Client")
HandlerT = TypeVar("HandlerT", Handler, AsyncHandler)


class _Worker(Generic[ClientT, HandlerT]):
    """What the sync and the asyncio workers share: their settings, and what they count."""

    def __init__(self, client: ClientT, group: str, handler: HandlerT, *, max_in_flight: int | None) -> None:
        self.group = group
        self._client: ClientT = client
        self._handler: HandlerT = handler
        self._credit = max_in_flight or GROUP_CREDIT
        #: Whether a handler is running now (a stop then waits for it to be acked).
        self._handling = False
        #: Events acked, and nacked for a retry, since `run()` started.
        self.acked = 0
        self.retried = 0


class ProjectionWorker(_Worker["Client", Handler]):
    """Handles every event of a group with `handler`; see the module docstring.

    >>> worker = ProjectionWorker(client, "orders-projection", lambda event: database.apply(event))
    >>> threading.Thread(target=worker.run).start()
    >>> ...
    >>> worker.stop()  # from any thread, or a signal handler

    `client` is shared (the worker's subscription is one more call on its connection), so
    the handler may query through it. The group must exist.
    """

    def __init__(
        self,
        client: Client,
        group: str,
        handler: Callable[[RecordedEvent], None],
        *,
        max_in_flight: int | None = None,
    ) -> None:
        super().__init__(client, group, handler, max_in_flight=max_in_flight)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._subscription: Subscription | None = None

    @classmethod
    def writing_views(
        cls,
        client: Client,
        group: str,
        project: Callable[[RecordedEvent], Sequence[ViewWrite]],
        *,
        max_in_flight: int | None = None,
    ) -> ProjectionWorker:
        """A worker whose handler returns the view writes each event makes; they are
        applied with the event's ack, exactly once. The group must own the views."""
        worker = cls(client, group, lambda event: None, max_in_flight=max_in_flight)
        worker._handler = project
        return worker

    def run(self) -> None:
        """Handles deliveries until `stop()`, then returns. What the worker held and had not
        acked is delivered again, to it or another consumer.

        Raises the group's refusal: `NotFound` if it does not exist or is deleted; the
        daemon's refusal of a view write (`NotFound` for a view that does not exist,
        `FailedPrecondition` for a view of another group, `InvalidArgument` for a document
        that is not JSON); `Unavailable` once the client is closed.
        """
        while not self._stopping.is_set():
            try:
                self._consume()
            except Unavailable as error:
                if self._stopping.is_set():
                    return
                if self._client.closed:
                    raise
                logger.info("worker of group %s: %s; waiting for the daemon", self.group, error.message)

    def stop(self) -> None:
        """Makes `run()` return: a handler that is running finishes, and is acked, first."""
        with self._lock:
            self._stopping.set()
            subscription = None if self._handling else self._subscription
        if subscription is not None:
            subscription.close()  # ends the wait for the next delivery

    def _consume(self) -> None:
        with self._client.subscribe_group(self.group, initial_credit=self._credit) as deliveries:
            with self._lock:
                if self._stopping.is_set():
                    return
                self._subscription = deliveries
            try:
                for item in deliveries:
                    if not isinstance(item, Delivery):
                        continue
                    with self._lock:
                        if self._stopping.is_set():
                            return
                        self._handling = True
                    try:
                        self._handle(deliveries, item)
                    finally:
                        with self._lock:
                            self._handling = False
                    if self._stopping.is_set():
                        return
            finally:
                with self._lock:
                    self._subscription = None

    def _handle(self, deliveries: Subscription, item: Delivery) -> None:
        try:
            with processing_span(item.event, self.group):
                writes = self._handler(item.event)
        except Exception as error:
            deliveries.nack([item.delivery_id], "retry", failure_reason(error))
            self.retried += 1
            return
        deliveries.ack([item.delivery_id], writes or ())
        self.acked += 1


class AsyncProjectionWorker(_Worker["aio.Client", AsyncHandler]):
    """The asyncio `ProjectionWorker` (`logbook_client.aio.ProjectionWorker`): the handler
    may be a coroutine function or a plain one.

    >>> worker = logbook_client.aio.ProjectionWorker(client, "orders", handle)
    >>> task = asyncio.create_task(worker.run())
    >>> ...
    >>> worker.stop()    # run() returns; or task.cancel(): run() raises CancelledError
    """

    def __init__(
        self,
        client: aio.Client,
        group: str,
        handler: Callable[[RecordedEvent], Awaitable[None] | None],
        *,
        max_in_flight: int | None = None,
    ) -> None:
        super().__init__(client, group, handler, max_in_flight=max_in_flight)
        self._stopping = False
        self._subscription: aio.Subscription | None = None

    @classmethod
    def writing_views(
        cls,
        client: aio.Client,
        group: str,
        project: Callable[[RecordedEvent], Awaitable[Sequence[ViewWrite]] | Sequence[ViewWrite]],
        *,
        max_in_flight: int | None = None,
    ) -> AsyncProjectionWorker:
        """A worker whose handler returns the view writes each event makes; they are
        applied with the event's ack, exactly once."""
        worker = cls(client, group, lambda event: None, max_in_flight=max_in_flight)
        worker._handler = project
        return worker

    async def run(self) -> None:
        """Handles deliveries until `stop()`; see `ProjectionWorker.run`. A cancelled task
        stops too (CancelledError): a handler it interrupted is neither acked nor nacked."""
        while not self._stopping:
            try:
                await self._consume()
            except Unavailable as error:
                if self._stopping:
                    return
                if self._client.closed:
                    raise
                logger.info("worker of group %s: %s; waiting for the daemon", self.group, error.message)

    def stop(self) -> None:
        """Makes `run()` return: a handler that is running finishes, and is acked, first."""
        self._stopping = True
        if self._subscription is not None and not self._handling:
            self._subscription.close()

    async def _consume(self) -> None:
        async with self._client.subscribe_group(self.group, initial_credit=self._credit) as deliveries:
            if self._stopping:
                return
            self._subscription = deliveries
            try:
                async for item in deliveries:
                    if not isinstance(item, Delivery):
                        continue
                    if self._stopping:
                        return
                    self._handling = True
                    try:
                        await self._handle(deliveries, item)
                    finally:
                        self._handling = False
                    if self._stopping:
                        return
            finally:
                self._subscription = None

    async def _handle(self, deliveries: aio.Subscription, item: Delivery) -> None:
        try:
            with processing_span(item.event, self.group):
                result = self._handler(item.event)
                writes = await result if inspect.isawaitable(result) else result
        except Exception as error:
            await deliveries.nack([item.delivery_id], "retry", failure_reason(error))
            self.retried += 1
            return
        await deliveries.ack([item.delivery_id], writes or ())
        self.acked += 1
