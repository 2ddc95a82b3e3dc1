public import Tracing

/// Reads trace context out of an event's metadata: the `Extractor` an `Instrument` needs
/// to continue, in a consumer, the trace its appender started.
///
/// Every append puts its span's context in each event's metadata, under the keys the
/// bootstrapped instrument chooses: with OpenTelemetry's W3C propagator (swift-otel's
/// default, and the Python client's), `traceparent` and, when there is one, `tracestate`.
/// ``ProjectionWorker`` uses this to run each handler in a span whose parent is that
/// context. A consumer of ``GroupSubscription`` or ``LogbookClient/subscribe(_:from:)``
/// does the same by hand:
///
/// ```swift
/// var context = InstrumentationContext.topLevel   // ServiceContext, by its older name
/// InstrumentationSystem.instrument.extract(event.metadata, into: &context, using: EventMetadataExtractor())
/// try await withSpan("process", context: context, ofKind: .consumer) { span in
///     try await handle(event)
/// }
/// ```
public struct EventMetadataExtractor: Extractor {
    public init() {}

    public func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key]
    }
}
