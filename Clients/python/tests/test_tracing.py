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


@pytest.fixture
def tracer():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider.get_tracer("test"), exporter
    provider.shutdown()


def test_the_appending_span_is_the_parent_of_the_workers_span_in_another_process(client, name, daemon, tracer):
    tracer, exporter = tracer
    group = f"{name}-g"
    client.create_group(GroupSettings(group, Selector.category(name)))
    with tracer.start_as_current_span("place order"):
        client.append(f"{name}-1", [EventData.json("OrderPlaced", {"total": 5})])
    client.append(f"{name}-2", [EventData.json("OrderPlaced", {"total": 6})])  # no span: no context
    (appending,) = exporter.get_finished_spans()
    worker = subprocess.run(
        [sys.executable, str(WORKER), "--socket", daemon.socket_path, "--group", group, "--count", "2"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stderr
    spans = [json.loads(line) for line in worker.stdout.splitlines()]
    by_stream = {span["attributes"]["messaging.destination.name"]: span for span in spans}
    traced, untraced = by_stream[f"{name}-1"], by_stream[f"{name}-2"]
    assert traced["trace_id"] == format(appending.context.trace_id, "032x")
    assert traced["parent_span_id"] == format(appending.context.span_id, "016x")
    assert traced["kind"] == "CONSUMER" and traced["name"] == f"process {group}"
    assert traced["attributes"]["messaging.consumer.group.name"] == group
    assert untraced["parent_span_id"] is None and untraced["trace_id"] != traced["trace_id"]


def test_an_append_carries_traceparent_and_tracestate_under_exactly_those_keys(client, name, tracer):
    tracer, _ = tracer
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState, use_span

    context = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1),
                          trace_state=TraceState([("vendor", "v1")]))  # fmt: skip
    with use_span(NonRecordingSpan(context)):
        client.append(f"{name}-1", [EventData("T", metadata={"user": "u"}),
                                    EventData("T", metadata={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})])
    first, second = client.read(f"{name}-1")
    assert first.metadata == {
        "user": "u",
        "traceparent": f"00-{0xABC:032x}-{0xDEF:016x}-01",
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
