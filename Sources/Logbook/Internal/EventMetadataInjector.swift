internal import Tracing

/// Writes trace context into a metadata dictionary: the `Injector` an append hands to the
/// bootstrapped `Instrument`, which chooses the keys (`traceparent` and `tracestate` with
/// the W3C propagator).
///
/// It writes into a dictionary of its own, once per append; ``AppendTracing`` then copies
/// the entries into each event that does not carry trace context of its own.
struct EventMetadataInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}
