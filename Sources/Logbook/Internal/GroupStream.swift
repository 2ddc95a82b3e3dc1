internal import LogbookWire
internal import NIOCore

/// The buffer between the router (producer, on the event loop) and a group consumer's task,
/// and the hooks the router calls on the event loop for what must not wait in that buffer.
///
/// The daemon bounds what it sends a consumer by `max_in_flight`: it delivers more only as
/// deliveries are settled (or time out). So unlike a read, the router never holds back
/// reading for a group call: `Settled` frames queued behind deliveries the consumer has not
/// taken yet must still reach a task waiting for one (``GroupDelivery/ackAndWait()``), or
/// that task and the consumer would wait for each other.
enum GroupStream {
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        EventBatch,
        any Error,
        NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark,
        EventStream.Delegate
    >

    /// Called by the router on its event loop.
    struct Hooks: Sendable {
        /// The daemon confirmed these settlements.
        var settled: @Sendable ([UInt64]) -> Void
        /// The call is over, whatever the reason (maybe called more than once). Returns the
        /// Ack frames settled but not sent yet: when the consumer went away, the router sends
        /// them before its Cancel, so work finished just before stopping is not done again.
        var ended: @Sendable () -> [Ack]
    }
}
