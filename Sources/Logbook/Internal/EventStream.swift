internal import LogbookWire
internal import NIOCore

/// The bounded buffer between the router (producer, on the event loop) and a read's
/// consumer task.
enum EventStream {
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        [LogbookWire.RecordedEvent],
        any Error,
        NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark,
        Delegate
    >

    /// Tells the router, on its event loop, what the consumer did.
    struct Delegate: NIOAsyncSequenceProducerDelegate {
        let router: NIOLoopBound<CallRouter>
        let callID: UInt64

        func produceMore() {
            let router = self.router
            let callID = self.callID
            router.eventLoop.execute { router.value.produceMore(callID) }
        }

        func didTerminate() {
            let router = self.router
            let callID = self.callID
            router.eventLoop.execute { router.value.streamTerminated(callID) }
        }
    }
}
