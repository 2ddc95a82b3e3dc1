"""Tracing across processes with OpenTelemetry, when it is installed (`logbook-client[otel]`).

An append carries the W3C trace context of the span active in the appending process in each
event's metadata, under exactly the keys `traceparent` and `tracestate` (as the Swift
client does); a `ProjectionWorker` handles each event inside a span whose parent is the
context read back from the event. One trace then runs from the service that appended,
through the store, to the worker that projected the event.

Each append runs in a PRODUCER span, `append <category>` (a child of the active span, if any),
and it is that span's context the events carry; the worker's CONSUMER span is
`process <category>`. The names, kinds and attributes are the Swift client's, so a trace reads
the same whichever client appended or projected. Without `opentelemetry-api` installed nothing
is added and no span is made; with the API but no SDK configured, the active span's context
(if any) is carried as it is. An event that already carries a `traceparent` keeps its own.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from .types import RecordedEvent

if TYPE_CHECKING:
    from opentelemetry.trace import Span

try:
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError:  # the extra is not installed: tracing is off
    trace = None  # type: ignore[assignment]

__all__ = ["TRACEPARENT", "TRACESTATE", "append_span", "end_span", "processing_span", "trace_metadata"]

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

# W3C trace context only, whatever global propagator the application set (it may add
# baggage or other formats under other keys).
_propagator: Any = TraceContextTextMapPropagator() if trace is not None else None


def trace_metadata(span: Span | None = None) -> dict[str, str]:
    """The `traceparent` (and `tracestate`) of `span`, else of the active span, or nothing."""
    if trace is None:
        return {}
    if span is None or not span.get_span_context().is_valid:
        span = trace.get_current_span()
    if not span.get_span_context().is_valid:
        return {}
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=trace.set_span_in_context(span))
    return {key: carrier[key] for key in (TRACEPARENT, TRACESTATE) if carrier.get(key)}


def with_trace(metadata: Mapping[str, str], trace_context: Mapping[str, str]) -> Mapping[str, str]:
    """`metadata` with the trace context added, unless it carries one of its own."""
    if not trace_context or TRACEPARENT in metadata:
        return metadata
    return {**metadata, **trace_context}


def category(stream: str) -> str:
    """A stream's category: its name up to the first `-`."""
    return stream.split("-", 1)[0]


def _common(operation: str, kind: str) -> dict[str, str | int]:
    return {"messaging.system": "logbook", "messaging.operation.name": operation, "messaging.operation.type": kind}


def append_span(streams: Sequence[str], events: Sequence[Any]) -> Span | None:
    """A PRODUCER span for an append to `streams` (started, not made current), or None
    without OpenTelemetry. End it with `end_span`."""
    if trace is None:
        return None
    categories = {category(stream) for stream in streams}
    name = f"append {categories.pop()}" if len(categories) == 1 else "append"
    attributes = _common("append", "send")
    if len(streams) == 1:
        attributes["messaging.destination.name"] = streams[0]
        attributes["messaging.destination.template"] = category(streams[0])
    if len(events) == 1:
        attributes["messaging.message.id"] = str(events[0].id)
    else:
        attributes["messaging.batch.message_count"] = len(events)
    return trace.get_tracer("logbook_client").start_span(name, kind=trace.SpanKind.PRODUCER, attributes=attributes)


def end_span(span: Span | None, error: BaseException | None) -> None:
    """Ends `span`, recording `error` (a refusal, a lost connection) on it first."""
    if span is None:
        return
    if error is not None and trace is not None:
        span.record_exception(error)
        span.set_attribute("error.type", getattr(getattr(error, "code", None), "name", type(error).__qualname__))
        span.set_status(trace.Status(trace.StatusCode.ERROR, str(error)))
    span.end()


@contextlib.contextmanager
def processing_span(event: RecordedEvent, group: str) -> Iterator[Span | None]:
    """A consumer span for handling `event`, child of the span that appended it (if its
    metadata says which); an exception that leaves it is recorded on it."""
    if trace is None:
        yield None
        return
    parent = _propagator.extract(dict(event.metadata))
    tracer = trace.get_tracer("logbook_client")
    attributes = _common("process", "process")
    attributes.update({
        "messaging.destination.name": event.stream,
        "messaging.destination.template": category(event.stream),
        "messaging.consumer.group.name": group,
        "messaging.message.id": str(event.id),
        "logbook.event.type": event.type,
        "logbook.position": event.position,
        "logbook.revision": event.revision,
    })  # fmt: skip
    with tracer.start_as_current_span(
        f"process {category(event.stream)}", context=parent, kind=trace.SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span
