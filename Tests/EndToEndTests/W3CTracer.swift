internal import Foundation
internal import InMemoryTracing
internal import Tracing

/// InMemoryTracing's tracer speaking W3C Trace Context, as OpenTelemetry's propagator does:
/// what a process bootstrapped with swift-otel (or Python's OpenTelemetry) leaves in an
/// event's metadata, recorded in memory for a test to read.
///
/// Trace ids are 32 random hex digits and span ids 16, so that spans made in two processes
/// never share an id by chance. `inject` writes `traceparent` (`00-<trace>-<span>-01`) and
/// `tracestate` when the context holds one; `extract` reads them back, and ignores a
/// `traceparent` that is not in that form.
struct W3CTracer: Tracer {
    typealias Span = InMemorySpan

    private let recorder = InMemoryTracer(
        idGenerator: InMemoryTracer.IDGenerator(nextTraceID: { W3CTracer.hex(bytes: 16) }, nextSpanID: { W3CTracer.hex(bytes: 8) }),
        recordInjections: false,
        recordExtractions: false
    )

    /// The spans ended so far, in the order they ended.
    var finishedSpans: [FinishedInMemorySpan] {
        self.recorder.finishedSpans
    }

    func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> InMemorySpan {
        self.recorder.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    func activeSpan(identifiedBy context: InstrumentationContext) -> InMemorySpan? {
        self.recorder.activeSpan(identifiedBy: context)
    }

    func forceFlush() {}

    func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext,
        into carrier: inout Carrier,
        using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
        if let state = context[TraceStateKey.self] {
            injector.inject(state, forKey: "tracestate", into: &carrier)
        }
    }

    func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier,
        into context: inout InstrumentationContext,
        using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let value = extractor.extract(key: "traceparent", from: carrier),
            let parent = Self.parse(traceparent: value)
        else { return }
        context.inMemorySpanContext = parent
        if let state = extractor.extract(key: "tracestate", from: carrier) {
            context[TraceStateKey.self] = state
        }
    }

    /// `00-<32 hex>-<16 hex>-<2 hex>` as the span context it names; nil for anything else.
    static func parse(traceparent: String) -> InMemorySpanContext? {
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
            parts.dropFirst().allSatisfy({ $0.allSatisfy(\.isHexDigit) })
        else { return nil }
        return InMemorySpanContext(traceID: String(parts[1]), spanID: String(parts[2]), parentSpanID: nil)
    }

    static func hex(bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    private enum TraceStateKey: InstrumentationContextKey {
        typealias Value = String
    }
}
