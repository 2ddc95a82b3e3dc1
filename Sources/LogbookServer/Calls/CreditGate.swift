internal import Synchronization

/// How many more events a subscription may send: the client grants credit, each event
/// sent spends one, and the sending task waits while there is none.
///
/// This is what bounds a subscriber that stops reading: it costs the server one batch at
/// most, never a growing queue. One task spends; any thread grants.
final class CreditGate: Sendable {
    private let credit: Mutex<UInt64>
    private let bell = Doorbell()

    init(initial: UInt64) {
        self.credit = Mutex(initial)
    }

    /// Whether a task waits for credit (for tests: the waiter is in place before they act).
    var isWaiting: Bool { self.bell.isWaiting }

    /// Adds credit (saturating) and wakes the waiting task once there is some; a grant of
    /// 0 to a gate with none leaves the task waiting.
    func grant(_ count: UInt64) {
        let credit = self.credit.withLock { credit in
            let (sum, overflow) = credit.addingReportingOverflow(count)
            credit = overflow ? .max : sum
            return credit
        }
        if credit > 0 { self.bell.ring() }
    }

    func spend(_ count: UInt64) {
        self.credit.withLock { $0 -= min($0, count) }
    }

    /// The credit available now, waiting until there is some; throws when the task is
    /// cancelled while waiting.
    func available() async throws -> UInt64 {
        while true {
            let credit = self.credit.withLock { $0 }
            if credit > 0 { return credit }
            try Task.checkCancellation()
            await self.bell.wait()
        }
    }
}
