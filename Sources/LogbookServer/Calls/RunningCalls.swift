internal import LogbookWire
internal import Synchronization

/// What reaches a running long call (a read, a subscription) from outside its task: the
/// stop signal (Cancel, shutdown) and, for subscriptions, credit.
struct CallControl: Sendable {
    let signal = CallSignal()
    let credit: CreditGate
    /// Where Ack and Nack frames go: set by a call once it has joined a group.
    let settlements = SettlementRoute()

    init(initialCredit: UInt64) {
        self.credit = CreditGate(initial: initialCredit)
    }
}

/// The controls of a connection's running long calls, shared by the event-loop side that
/// receives Cancel and Credit frames and the tasks that run the calls.
final class CallSignals: Sendable {
    private let controls = Mutex<[UInt64: CallControl]>([:])

    func register(_ callID: UInt64, initialCredit: UInt64 = 0) {
        self.controls.withLock { $0[callID] = CallControl(initialCredit: initialCredit) }
    }

    func control(for callID: UInt64) -> CallControl? {
        self.controls.withLock { $0[callID] }
    }

    func signal(for callID: UInt64) -> CallSignal? {
        self.control(for: callID)?.signal
    }

    func remove(_ callID: UInt64) {
        self.controls.withLock { $0[callID] = nil }
    }

    func signal(_ callIDs: [UInt64], _ reason: CallSignal.Reason) {
        let signals = self.controls.withLock { controls in callIDs.compactMap { controls[$0]?.signal } }
        for signal in signals {
            signal.signal(reason)
        }
    }

    func signalAll(_ reason: CallSignal.Reason) {
        for control in self.controls.withLock({ Array($0.values) }) {
            control.signal.signal(reason)
        }
    }
}

/// Where a call's Ack and Nack frames go, once it has joined a group.
final class SettlementRoute: Sendable {
    private let handler = Mutex<(@Sendable (Frame.Body) -> Void)?>(nil)

    func set(_ handler: (@Sendable (Frame.Body) -> Void)?) {
        self.handler.withLock { $0 = handler }
    }

    func deliver(_ body: Frame.Body) {
        self.handler.withLock { $0 }?(body)
    }
}
