internal import LogbookWire
internal import Synchronization

/// Where a call's Ack and Nack frames go, once it has joined a group: the event loop
/// receives them, the group's runtime takes them.
final class SettlementRoute: Sendable {
    private let handler = Mutex<(@Sendable (Frame.Body) -> Void)?>(nil)

    func set(_ handler: (@Sendable (Frame.Body) -> Void)?) {
        self.handler.withLock { $0 = handler }
    }

    func deliver(_ body: Frame.Body) {
        self.handler.withLock { $0 }?(body)
    }
}
