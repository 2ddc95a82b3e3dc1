"""A projection worker process for the tracing test: it handles `--count` events of a group
with a ProjectionWorker, and exports its spans to stdout as JSON lines (one per span:
name, kind, trace id, span id, parent span id, attributes)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult  # noqa: E402

import logbook_client  # noqa: E402


class JSONLinesExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            context = span.get_span_context()
            print(json.dumps({
                "name": span.name,
                "kind": span.kind.name,
                "trace_id": format(context.trace_id, "032x"),
                "span_id": format(context.span_id, "016x"),
                "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
                "attributes": dict(span.attributes or {}),
            }), flush=True)  # fmt: skip
        return SpanExportResult.SUCCESS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JSONLinesExporter()))
    trace.set_tracer_provider(provider)
    with logbook_client.Client(args.socket) as client:
        handled = []

        def handle(event: logbook_client.RecordedEvent) -> None:
            handled.append(event.id)
            if len(handled) == args.count:
                worker.stop()

        worker = logbook_client.ProjectionWorker(client, args.group, handle)
        worker.run()
    provider.shutdown()


if __name__ == "__main__":
    main()
