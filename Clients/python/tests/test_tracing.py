"""Tracing across processes with OpenTelemetry: an append inside a span carries its W3C
trace context in the event's metadata, and a ProjectionWorker in another process handles
the event inside a span whose parent is that span."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk", reason="pip install 'logbook-client[otel]' opentelemetry-sdk")

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

import logbook_client  # noqa: E402
from logbook_client import EventData, GroupSettings, Selector, _tracing  # noqa: E402

WORKER = Path(__file__).resolve().parent / "traced_worker.py"


_EXPORTER = InMemorySpanExporter()
_PROVIDER = TracerProvider()
_PROVIDER.add_span_processor(SimpleSpanProcessor(_EXPORTER))


@pytest.fixture
def tracer():
    """The process's tracer provider (OpenTelemetry allows one), with its exported spans
    cleared: the client's own spans (an append's) are exported here too."""
    from opentelemetry import trace

    trace.set_tracer_provider(_PROVIDER)
    _EXPORTER.clear()
    yield _PROVIDER.get_tracer("test"), _EXPORTER
    _EXPORTER.clear()


def test_the_appending_span_is_the_parent_of_the_workers_span_in_another_process(client, name, daemon, tracer):
    tracer, exporter = tracer
    group = f"{name}-g"
    client.create_group(GroupSettings(group, Selector.category(name)))
    with tracer.start_as_current_span("place order"):
        client.append(f"{name}-1", [EventData.json("OrderPlaced", {"total": 5})])
    client.append(f"{name}-2", [EventData.json("OrderPlaced", {"total": 6})])  # no span around it
    spans = {span.name: span for span in exporter.get_finished_spans() if span.name != "place order"}
    placing = next(span for span in exporter.get_finished_spans() if span.name == "place order")
    appends = [span for span in exporter.get_finished_spans() if span.name == f"append {name}"]
    assert len(appends) == 2 and spans
    in_order, alone = sorted(appends, key=lambda span: span.start_time)
    assert in_order.kind.name == "PRODUCER" and in_order.parent.span_id == placing.context.span_id
    assert in_order.attributes["messaging.destination.name"] == f"{name}-1"
    assert alone.parent is None, "an append outside any span starts its own trace"
    worker = subprocess.run(
        [sys.executable, str(WORKER), "--socket", daemon.socket_path, "--group", group, "--count", "2"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stderr
    processed = [json.loads(line) for line in worker.stdout.splitlines()]
    by_stream = {span["attributes"]["messaging.destination.name"]: span for span in processed}
    for stream, appending in ((f"{name}-1", in_order), (f"{name}-2", alone)):
        span = by_stream[stream]
        assert span["trace_id"] == format(appending.context.trace_id, "032x")
        assert span["parent_span_id"] == format(appending.context.span_id, "016x")
        assert span["kind"] == "CONSUMER" and span["name"] == f"process {name}"
        assert span["attributes"]["messaging.consumer.group.name"] == group
    assert by_stream[f"{name}-1"]["trace_id"] == format(placing.context.trace_id, "032x")


def test_an_append_carries_traceparent_and_tracestate_under_exactly_those_keys(client, name, tracer):
    tracer, exporter = tracer
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState, use_span

    context = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1),
                          trace_state=TraceState([("vendor", "v1")]))  # fmt: skip
    with use_span(NonRecordingSpan(context)):
        client.append(f"{name}-1", [EventData("T", metadata={"user": "u"}),
                                    EventData("T", metadata={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})])
    first, second = client.read(f"{name}-1")
    (appending,) = exporter.get_finished_spans()  # the append's own span, under the remote one
    assert appending.context.trace_id == 0xABC and appending.parent.span_id == 0xDEF
    assert first.metadata == {
        "user": "u",
        "traceparent": f"00-{0xABC:032x}-{appending.context.span_id:016x}-01",
        "tracestate": "vendor=v1",
    }
    assert second.metadata == {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}  # its own is kept


def test_without_opentelemetry_nothing_changes(client, name, tracer, monkeypatch):
    tracer, _ = tracer
    monkeypatch.setattr(_tracing, "trace", None)
    with tracer.start_as_current_span("span"):
        client.append(f"{name}-1", [EventData("T")])
    (event,) = client.read(f"{name}-1")
    assert event.metadata == {}
    with _tracing.processing_span(event, "g") as span:
        assert span is None


def test_the_package_imports_and_appends_without_opentelemetry_installed(daemon, name):
    script = (
        "import sys; sys.modules['opentelemetry'] = None\n"  # as if it were not installed
        "import logbook_client\n"
        "from logbook_client import _tracing\n"
        "assert _tracing.trace is None and _tracing.trace_metadata() == {}\n"
        f"with logbook_client.Client({daemon.socket_path!r}) as c:\n"
        f"    c.append({name + '-1'!r}, [logbook_client.EventData('T')])\n"
        f"    assert [e.metadata for e in c.read({name + '-1'!r})] == [{{}}]\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    assert result.returncode == 0, result.stderr
