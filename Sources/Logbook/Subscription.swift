internal import Logging

/// A catch-up subscription, as an `AsyncSequence` of ``SubscriptionMessage``s: the history
/// after its start, a CaughtUp, then every event appended, for as long as it is iterated.
///
/// Iterating opens a connection of its own to the daemon and starts the call; each
/// iteration is its own subscription. The sequence never ends by itself:
/// - the consumer holds the server back: the client grants credit for a window of events
///   and tops it up as the consumer takes them, so a slow consumer costs bounded memory
///   here and on the server;
/// - when the connection fails (the daemon restarts, or answers UNAVAILABLE while shutting
///   down), it connects again with exponential back-off and resumes after the last message
///   it handed out, so the consumer sees no gap and no duplicate;
/// - a refusal (an invalid selector, a missing permission) ends it with that
///   ``LogbookError``;
/// - stopping the iteration or cancelling its task sends Cancel and closes the connection;
///   a cancelled task's `next()` throws `CancellationError`.
///
/// A subscription started at ``SubscriptionStart/end`` learns its position from the
/// server's first message (the CaughtUp it sends at once); a connection lost before that
/// resumes at the end again.
public struct Subscription: AsyncSequence, Sendable {
    public typealias Element = SubscriptionMessage

    struct Options: Sendable {
        var socketPath: String
        var clientName: String
        var logger: Logger
        var selector: ReadSelector
        var from: SubscriptionStart
        var filter: ReadFilter?
        var configuration: SubscriptionStateMachine.Configuration
    }

    let options: Options

    /// The events alone, without the CaughtUp, FellBehind and Checkpoint markers.
    public var events: Events {
        Events(subscription: self)
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            calls: ResumingIterator(
                socketPath: self.options.socketPath,
                clientName: self.options.clientName,
                logger: self.options.logger,
                what: "subscription to \(self.options.selector)",
                calls: SubscriptionCalls(options: self.options)
            )
        )
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        private let calls: ResumingIterator<SubscriptionCalls>

        init(calls: ResumingIterator<SubscriptionCalls>) {
            self.calls = calls
        }

        public mutating func next() async throws -> SubscriptionMessage? {
            try await self.calls.next()
        }

        /// Whether the next message is already here (the rest of a batch): a printer
        /// flushes its output when this turns false, so it writes once per batch.
        package var hasBufferedEvents: Bool {
            self.calls.hasBuffered
        }
    }

    /// The events of a subscription, as an `AsyncSequence`; see ``Subscription``.
    public struct Events: AsyncSequence, Sendable {
        public typealias Element = RecordedEvent

        let subscription: Subscription

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(messages: self.subscription.makeAsyncIterator())
        }

        public struct AsyncIterator: AsyncIteratorProtocol {
            private var messages: Subscription.AsyncIterator

            init(messages: Subscription.AsyncIterator) {
                self.messages = messages
            }

            public mutating func next() async throws -> RecordedEvent? {
                while let message = try await self.messages.next() {
                    if let event = message.event { return event }
                }
                return nil
            }
        }
    }
}
