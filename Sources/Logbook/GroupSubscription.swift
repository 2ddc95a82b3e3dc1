internal import Logging

/// A consumer in a persistent subscription group, as an `AsyncSequence` of
/// ``GroupDelivery``s; see ``LogbookClient/consume(group:maxInFlight:)``.
///
/// Iterating joins the group on a connection of its own; each iteration is one consumer.
/// The sequence never ends by itself:
/// - the daemon sends at most `maxInFlight` deliveries this consumer has not settled, so
///   a slow consumer costs bounded memory here and on the server;
/// - when the connection fails, the daemon shuts down, or the group's settings change
///   (UNAVAILABLE), it joins again with the same exponential back-off as a catch-up
///   ``Subscription``. Deliveries this consumer had not settled go back to the group and
///   come again, to this consumer or another, with a higher ``GroupDelivery/attempt``:
///   delivery is **at-least-once**, so handle an event idempotently, or wait for
///   ``GroupDelivery/ackAndWait()`` before an effect that must not repeat;
/// - NOT_FOUND (the group does not exist, or was deleted while consuming) or any other
///   refusal ends it with that ``LogbookError``;
/// - stopping the iteration or cancelling its task sends Cancel and closes the connection;
///   what it held and had not settled is delivered again. A cancelled task's `next()`
///   throws `CancellationError`.
public struct GroupSubscription: AsyncSequence, Sendable {
    public typealias Element = GroupDelivery

    struct Options: Sendable {
        var socketPath: String
        var clientName: String
        var logger: Logger
        var group: String
        var maxInFlight: Int?
        var configuration: SubscriptionStateMachine.Configuration
    }

    let options: Options

    /// The group's name.
    public var group: String {
        self.options.group
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            calls: ResumingIterator(
                socketPath: self.options.socketPath,
                clientName: self.options.clientName,
                logger: self.options.logger,
                what: "consumer of group \(self.options.group)",
                calls: GroupSubscriptionCalls(options: self.options)
            )
        )
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        private let calls: ResumingIterator<GroupSubscriptionCalls>

        init(calls: ResumingIterator<GroupSubscriptionCalls>) {
            self.calls = calls
        }

        public mutating func next() async throws -> GroupDelivery? {
            try await self.calls.next()
        }

        /// Whether the next delivery is already here (the rest of a batch): a printer
        /// flushes its output, and acks what it printed, when this turns false.
        package var hasBufferedDeliveries: Bool {
            self.calls.hasBuffered
        }
    }
}
