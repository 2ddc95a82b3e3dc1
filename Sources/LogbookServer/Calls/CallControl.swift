/// What reaches a running long call (a read, a subscription) from outside its task: the
/// stop signal (Cancel, shutdown), credit for subscriptions, and the route its Ack and
/// Nack frames take once it has joined a group.
struct CallControl: Sendable {
    let stop = StopSignal()
    let credit: CreditGate
    /// Where Ack and Nack frames go: set by a call once it has joined a group.
    let settlements = SettlementRoute()

    init(initialCredit: UInt64) {
        self.credit = CreditGate(initial: initialCredit)
    }
}
