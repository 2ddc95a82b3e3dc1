internal import Synchronization

/// The controls of a connection's running long calls, by call id: shared by the event
/// loop, which receives Cancel, Credit, Ack and Nack frames, and the tasks that run the
/// calls.
final class RunningCalls: Sendable {
    private let controls = Mutex<[UInt64: CallControl]>([:])

    func register(_ callID: UInt64, initialCredit: UInt64 = 0) {
        self.controls.withLock { $0[callID] = CallControl(initialCredit: initialCredit) }
    }

    func control(for callID: UInt64) -> CallControl? {
        self.controls.withLock { $0[callID] }
    }

    func remove(_ callID: UInt64) {
        self.controls.withLock { $0[callID] = nil }
    }

    /// Stops the calls named; ids of calls that have ended are passed over.
    func stop(_ callIDs: [UInt64], _ reason: StopSignal.Reason) {
        let signals = self.controls.withLock { controls in callIDs.compactMap { controls[$0]?.stop } }
        for signal in signals {
            signal.signal(reason)
        }
    }

    func stopAll(_ reason: StopSignal.Reason) {
        for control in self.controls.withLock({ Array($0.values) }) {
            control.stop.signal(reason)
        }
    }
}
