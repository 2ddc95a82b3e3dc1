package import LogbookWire
internal import NIOCore

/// What the server sends on a catch-up subscription before its Status.
package enum SubscriptionFrame: Sendable, Hashable {
    case events([LogbookWire.RecordedEvent])
    case caughtUp(UInt64)
    case fellBehind(UInt64)
    case checkpoint(UInt64)
}

/// The buffer between the router (producer, on the event loop) and a subscription's
/// consumer task.
///
/// Credit, not this buffer, bounds a subscription: the server never sends more events
/// than the client granted (``SubscriptionStateMachine/creditWindow``). The watermarks only
/// keep a stream of markers from piling up; reaching them holds back reading from the
/// subscription's own connection, which pauses nothing else.
enum SubscriptionStream {
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        SubscriptionFrame,
        any Error,
        NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark,
        EventStream.Delegate
    >
}
