/// A group consumer's bookkeeping across calls and connections, as a value: which call is
/// current, which of its deliveries wait for the daemon's `Settled`, who waits for each,
/// and how long to wait before joining the group again.
///
/// Generic over the waiter so that it is tested without tasks or sockets (STYLE.md, State
/// machines); ``GroupConsumer`` holds it in a lock and resumes the waiters it returns.
///
/// ```
///   startCall ──▶ open ──deliveries / settle / Settled──▶ open
///                  │ the call ended (connection lost, UNAVAILABLE, the server said OK)
///                  ▼
///               closed: every waiter fails (the outcome is unknown: the delivery may
///                  │     come again), deliveries of this call can no longer be settled
///                  ├──retryable──▶ back-off ──▶ startCall (a new generation)
///                  └──NOT_FOUND, any other refusal──▶ failed
/// ```
///
/// Delivery ids are only unique within one call: after a reconnection the daemon may number
/// from 1 again (a restarted daemon, a group whose settings changed). So every delivery
/// carries the generation of the call it came on, and settling one from an older call sends
/// nothing: it would settle another event.
package struct GroupConsumerStateMachine<Waiter> {
    /// How a consumer settles a delivery.
    package enum Settlement: Sendable, Hashable {
        case ack
        case nack(GroupDelivery.NackAction)

        /// Whether the daemon confirms it with `Settled` (a retry is not settled).
        var isConfirmed: Bool {
            switch self {
            case .ack: true
            case .nack(let action): action.settles
            }
        }
    }

    /// What to do with a settlement the consumer asked for.
    package enum SettleAction {
        /// Send it on the current call; the waiter, if any, waits for `Settled`.
        case send
        /// Send it; there is nothing to confirm, so resume the waiter now.
        case sendAndResume(Waiter?)
        /// Send nothing: fail the waiter, if any, with this error.
        case drop(Waiter?, LogbookError)
        /// Send nothing: the delivery was settled before and the waiter waits for that.
        case alreadySent
    }

    /// What to do when a call ended.
    package typealias EndAction = SubscriptionStateMachine.EndAction

    private struct Entry {
        var settling = false
        var waiters: [Waiter] = []
    }

    package let configuration: SubscriptionStateMachine.Configuration
    /// The current call's number; deliveries carry it. 0 before the first call.
    package private(set) var generation: UInt64 = 0
    package private(set) var isCallOpen = false
    private var reconnection: Reconnection
    /// Calls in a row that ended before delivering or settling anything.
    package var failures: Int { self.reconnection.failures }
    package var isFailed: Bool { self.reconnection.isFailed }
    /// The current call's deliveries not yet settled or confirmed, by delivery id.
    private var entries: [UInt64: Entry] = [:]

    package init(configuration: SubscriptionStateMachine.Configuration = .standard) {
        self.configuration = configuration
        self.reconnection = Reconnection(configuration: configuration)
    }

    /// Deliveries of the current call that are handed out and not yet confirmed.
    package var unconfirmedCount: Int {
        self.entries.count
    }

    /// A new call starts; returns its generation.
    package mutating func startCall() -> UInt64 {
        self.generation += 1
        self.isCallOpen = true
        self.entries = [:]
        return self.generation
    }

    /// Deliveries arrived on the current call. Returns the waiters of deliveries whose id
    /// the daemon reused (after a group reset its numbering starts again), to fail.
    package mutating func received(_ deliveryIDs: [UInt64]) -> [Waiter] {
        guard self.isCallOpen else { return [] }
        self.reconnection.delivered()
        var superseded: [Waiter] = []
        for id in deliveryIDs {
            if let old = self.entries.updateValue(Entry(), forKey: id) {
                superseded += old.waiters
            }
        }
        return superseded
    }

    /// The consumer settles a delivery it got on call `generation`.
    package mutating func settle(_ deliveryID: UInt64, generation: UInt64, _ settlement: Settlement, waiter: Waiter?) -> SettleAction {
        guard generation == self.generation, self.isCallOpen else {
            return .drop(waiter, Self.callGone)
        }
        guard var entry = self.entries[deliveryID] else {
            return .drop(waiter, LogbookError(code: .failedPrecondition, message: "delivery \(deliveryID) was already settled"))
        }
        if entry.settling {
            // Settled twice: the first one counts; wait for its confirmation.
            if let waiter { entry.waiters.append(waiter) }
            self.entries[deliveryID] = entry
            return .alreadySent
        }
        guard settlement.isConfirmed else {
            self.entries[deliveryID] = nil
            return .sendAndResume(waiter)
        }
        entry.settling = true
        if let waiter { entry.waiters.append(waiter) }
        self.entries[deliveryID] = entry
        return .send
    }

    /// The daemon confirmed these settlements of the current call; returns the waiters to
    /// resume.
    package mutating func settled(_ deliveryIDs: [UInt64], generation: UInt64) -> [Waiter] {
        guard generation == self.generation, self.isCallOpen else { return [] }
        self.reconnection.delivered()
        var waiters: [Waiter] = []
        for id in deliveryIDs {
            guard let entry = self.entries[id], entry.settling else { continue }
            self.entries[id] = nil
            waiters += entry.waiters
        }
        return waiters
    }

    /// Call `generation` is over (the connection went, or the server ended it); returns the
    /// waiters to fail with ``callGone``. Idempotent.
    package mutating func callClosed(generation: UInt64) -> [Waiter] {
        guard generation == self.generation, self.isCallOpen else { return [] }
        self.isCallOpen = false
        let waiters = self.entries.values.flatMap(\.waiters)
        self.entries = [:]
        return waiters
    }

    /// After ``callClosed(generation:)``: whether to join the group again, and when.
    ///
    /// `error` is how the call ended: `.unavailable` for a lost connection or a daemon
    /// shutting down or restarting the group, nil when the server said OK. Those are worth
    /// another call; NOT_FOUND (the group is gone) or any other refusal ends the sequence.
    package mutating func callEnded(_ error: LogbookError?, jitter: Double) -> EndAction {
        self.isCallOpen = false
        return self.reconnection.callEnded(error, jitter: jitter)
    }

    /// Why a settlement was not sent or not confirmed: the daemon may deliver it again.
    package static var callGone: LogbookError {
        LogbookError(
            code: .unavailable,
            message: "the call this delivery came on ended before the daemon confirmed its settlement; it may be delivered again"
        )
    }
}
