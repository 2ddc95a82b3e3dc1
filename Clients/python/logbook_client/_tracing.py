"""Tracing across processes with OpenTelemetry, when it is installed (`logbook-client[otel]`).

An append carries the W3C trace context of the span active in the appending process in each
event's metadata, under exactly the keys `traceparent` and `tracestate` (as the Swift
client does); a `ProjectionWorker` handles each event inside a span whose parent is the
context read back from the event. One trace then runs from the service that appended,
through the store, to the worker that projected the event.

Without `opentelemetry-api` installed, or with no span active, nothing is added and no span
is made. An event that already carries a `traceparent` keeps its own.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from .types import RecordedEvent

if TYPE_CHECKING:
    from opentelemetry.trace import Span

try:
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError:  # the extra is not installed: tracing is off
    trace = None  # type: ignore[assignment]

__all__ = ["TRACEPARENT", "TRACESTATE", "processing_span", "trace_metadata"]

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

# W3C trace context only, whatever global propagator the application set (it may add
# baggage or other formats under other keys).
_propagator: Any = TraceContextTextMapPropagator() if trace is not None else None


def trace_metadata() -> dict[str, str]:
    """The current span's `traceparent` (and `tracestate`), or nothing."""
    if trace is None or not trace.get_current_span().get_span_context().is_valid:
        return {}
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return {key: carrier[key] for key in (TRACEPARENT, TRACESTATE) if carrier.get(key)}


def with_trace(metadata: Mapping[str, str], trace_context: Mapping[str, str]) -> Mapping[str, str]:
    """`metadata` with the trace context added, unless it carries one of its own."""
    if not trace_context or TRACEPARENT in metadata:
        return metadata
    return {**metadata, **trace_context}


@contextlib.contextmanager
def processing_span(event: RecordedEvent, group: str) -> Iterator[Span | None]:
    """A consumer span for handling `event`, child of the span that appended it (if its
    metadata says which); an exception that leaves it is recorded on it."""
    if trace is None:
        yield None
        return
    parent = _propagator.extract(dict(event.metadata))
    tracer = trace.get_tracer("logbook_client")
    attributes: dict[str, str | int] = {
        "messaging.system": "logbook",
        "messaging.operation.type": "process",
        "messaging.destination.name": event.stream,
        "messaging.consumer.group.name": group,
        "messaging.message.id": str(event.id),
        "logbook.position": event.position,
    }
    with tracer.start_as_current_span(
        f"process {group}", context=parent, kind=trace.SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span
