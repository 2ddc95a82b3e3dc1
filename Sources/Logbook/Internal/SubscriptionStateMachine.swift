package import LogbookWire

/// A catch-up subscription's bookkeeping across calls and connections, as a value: where
/// to resume, how much credit to grant, whether the consumer has been told it is live, and
/// how long to wait before reconnecting.
///
/// The iterator feeds it each message just before handing it to the consumer, and each
/// end of a call; it answers with what to do. It does no I/O, so it is tested without
/// sockets (STYLE.md, State machines).
///
/// ```
///   start(from) ──call──▶ streaming ──message──▶ streaming (resume = after its position)
///        ▲                   │ UNAVAILABLE / connection lost / the server ended the call
///        └──back-off─────────┘
///                            │ any other refusal ──▶ failed
/// ```
///
/// Resuming "after the last position handed to the consumer" is exact because messages
/// reach the consumer in the order the server sent them, and everything before a message's
/// position that matches has been sent before it: an event's own position, or the position
/// a CaughtUp, FellBehind or Checkpoint names. Events still in the buffer when the
/// connection fails are handed out first, so the new call picks up right after them.
package struct SubscriptionStateMachine: Sendable {
    package struct Configuration: Sendable, Hashable {
        /// Events the server may have in flight or the client buffered, at most.
        package var creditWindow: Int
        /// Events the consumer takes before the client grants that many again.
        package var creditChunk: Int
        /// The wait before the first reconnection attempt.
        package var backoffInitial: Duration
        /// The longest wait between attempts.
        package var backoffMax: Duration

        package init(creditWindow: Int, creditChunk: Int, backoffInitial: Duration, backoffMax: Duration) {
            self.creditWindow = max(1, creditWindow)
            self.creditChunk = min(max(1, creditChunk), self.creditWindow)
            self.backoffInitial = backoffInitial
            self.backoffMax = max(backoffInitial, backoffMax)
        }

        /// The numbers of ``ClientLimits``, which say why.
        package static let standard = Configuration(
            creditWindow: ClientLimits.subscriptionCreditWindow,
            creditChunk: ClientLimits.subscriptionCreditChunk,
            backoffInitial: ClientLimits.reconnectBackoffInitial,
            backoffMax: ClientLimits.reconnectBackoffMax
        )
    }

    /// What to do with a message about to be handed to the consumer.
    package struct Handout: Sendable, Hashable {
        /// Whether the consumer sees it (a second CaughtUp after a reconnection is not news).
        package var deliver: Bool
        /// Credit to grant the server now, if any.
        package var grant: UInt32?
    }

    /// What to do when a call ended.
    package enum EndAction: Sendable, Hashable {
        /// Connect again after this wait and resume.
        case reconnect(after: Duration)
        /// End the sequence with this error.
        case fail(LogbookError)
    }

    package let configuration: Configuration
    /// Where the next call starts: the original start until a message arrived, then
    /// after the position of the last one handed out.
    package private(set) var resume: SubscriptionStart
    /// Whether the consumer was told CaughtUp and not FellBehind since.
    package private(set) var isLive = false
    /// Events handed out since credit was last granted on this call.
    package private(set) var takenSinceGrant = 0
    private var reconnection: Reconnection

    /// Calls in a row that ended before delivering anything.
    package var failures: Int { self.reconnection.failures }
    package var isFailed: Bool { self.reconnection.isFailed }

    package init(from start: SubscriptionStart, configuration: Configuration = .standard) {
        self.resume = start
        self.configuration = configuration
        self.reconnection = Reconnection(configuration: configuration)
    }

    /// A new call starts: the credit it opens with, and where it starts.
    package mutating func startCall() -> (initialCredit: UInt32, from: SubscriptionStart) {
        self.takenSinceGrant = 0
        return (UInt32(clamping: self.configuration.creditWindow), self.resume)
    }

    /// An event is about to be handed to the consumer.
    package mutating func handingOutEvent(at position: UInt64) -> Handout {
        self.advance(to: position)
        self.takenSinceGrant += 1
        guard self.takenSinceGrant >= self.configuration.creditChunk else {
            return Handout(deliver: true, grant: nil)
        }
        let grant = UInt32(clamping: self.takenSinceGrant)
        self.takenSinceGrant = 0
        return Handout(deliver: true, grant: grant)
    }

    /// A marker arrived; says whether the consumer sees it.
    package mutating func handingOut(_ frame: SubscriptionFrame) -> Handout {
        switch frame {
        case .events(let events):
            // Events are handed out one at a time with handingOutEvent(at:).
            return Handout(deliver: !events.isEmpty, grant: nil)
        case .caughtUp(let position):
            self.advance(to: position)
            defer { self.isLive = true }
            return Handout(deliver: !self.isLive, grant: nil)
        case .fellBehind(let position):
            self.advance(to: position)
            self.isLive = false
            return Handout(deliver: true, grant: nil)
        case .checkpoint(let position):
            self.advance(to: position)
            return Handout(deliver: true, grant: nil)
        }
    }

    /// The call ended: the connection failed or closed (`error` is `.unavailable`), the
    /// server ended it (with `error`, or with none for OK), or the connection could not be
    /// made. See ``Reconnection``.
    ///
    /// - Parameter jitter: A number in 0..<1 that spreads the waits of many subscribers
    ///   reconnecting at once; the wait is between half and all of the back-off.
    package mutating func callEnded(_ error: LogbookError?, jitter: Double) -> EndAction {
        self.reconnection.callEnded(error, jitter: jitter)
    }

    /// The request for the next call.
    package static func request(
        selector: ReadSelector,
        from: SubscriptionStart,
        filter: ReadFilter?,
        initialCredit: UInt32
    ) throws(LogbookError) -> SubscribeRequest {
        if case .revision = from.point, !selector.isStream {
            throw LogbookError(
                code: .invalidArgument,
                message: "a subscription to \(selector) starts after a position, not a revision"
            )
        }
        return SubscribeRequest(
            initialCredit: initialCredit,
            target: .catchUp(CatchUp(selector: selector.wire, from: from.point.wire, filter: filter?.wire))
        )
    }

    private mutating func advance(to position: UInt64) {
        // The first message on a call proves the connection works.
        self.reconnection.delivered()
        if case .position(let current) = self.resume.point, current >= position {
            return
        }
        self.resume = .after(position: position)
    }
}
