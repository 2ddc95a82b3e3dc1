internal import Synchronization

/// The stop signals of a connection's running long calls (reads, and later subscriptions),
/// shared by the event-loop side that learns of a Cancel and the task that runs the call.
final class CallSignals: Sendable {
    private let signals = Mutex<[UInt64: CallSignal]>([:])

    func register(_ callID: UInt64) {
        self.signals.withLock { $0[callID] = CallSignal() }
    }

    func signal(for callID: UInt64) -> CallSignal? {
        self.signals.withLock { $0[callID] }
    }

    func remove(_ callID: UInt64) {
        self.signals.withLock { $0[callID] = nil }
    }

    func signal(_ callIDs: [UInt64], _ reason: CallSignal.Reason) {
        let signals = self.signals.withLock { signals in callIDs.compactMap { signals[$0] } }
        for signal in signals {
            signal.signal(reason)
        }
    }

    func signalAll(_ reason: CallSignal.Reason) {
        for signal in self.signals.withLock({ Array($0.values) }) {
            signal.signal(reason)
        }
    }
}
