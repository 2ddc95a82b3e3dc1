/// One delivery of a persistent group to this consumer: an event, which delivery of it
/// this is, and the ways to settle it.
///
/// Settle every delivery once: ``ack()`` when it is handled, ``nack(_:reason:)`` when it
/// is not. A delivery left unsettled is delivered again after the group's ack timeout, or
/// as soon as this consumer disconnects.
///
/// `ack()` and `nack(_:reason:)` return once the settlement is on its way; the daemon
/// records it on disk a moment later. A consumer whose effects live outside Logbook and
/// must not be repeated after a crash waits for that with ``ackAndWait()``: once it returns,
/// the event is never delivered again, even after a `kill -9` of the daemon.
public struct GroupDelivery: Sendable {
    /// The event delivered.
    public let event: RecordedEvent
    /// The delivery's id on the call it came on; ids are not unique across reconnections.
    public let deliveryID: UInt64
    /// 1 for the first delivery of this event to the group, 2 for the second …
    public let attempt: Int

    let consumer: GroupConsumer
    /// The call it came on: settling it after that call ended sends nothing.
    let generation: UInt64

    init(event: RecordedEvent, deliveryID: UInt64, attempt: Int, consumer: GroupConsumer, generation: UInt64) {
        self.event = event
        self.deliveryID = deliveryID
        self.attempt = attempt
        self.consumer = consumer
        self.generation = generation
    }

    /// Marks the event handled. Returns once the ack is on its way.
    ///
    /// If the connection it came on is gone, the ack is dropped and the group delivers
    /// the event again (at-least-once); nothing is thrown, so a consuming loop carries on
    /// through a daemon restart.
    public func ack() async {
        self.consumer.settle(self.deliveryID, generation: self.generation, .ack, waiter: nil)
    }

    /// Marks the event handled and has the daemon apply `writes` to views of this group in
    /// the same transaction that records the ack: the views reflect the event exactly once,
    /// even when it is delivered again because the ack was lost. Returns once the ack is on
    /// its way.
    ///
    /// A write the daemon refuses (a view that does not exist or belongs to another group,
    /// a document that is not JSON) applies nothing and ends this consumer's call with that
    /// error, which the iteration of the ``GroupSubscription`` then throws.
    ///
    /// - Throws: ``LogbookError`` `.invalidArgument`, sending nothing, for a write that holds
    ///   a NUL character (the wire cannot carry it).
    public func ack(writes: [ViewWrite]) async throws {
        for write in writes { try write.checkEncodable() }
        self.consumer.settle(self.deliveryID, generation: self.generation, .ack, writes: writes, waiter: nil)
    }

    /// Gives the event back: `.retry` delivers it again after the group's back-off (and
    /// parks it past `maxDeliveries`), `.park` parks it now, `.skip` drops it.
    ///
    /// - Parameter reason: Kept with the event if it is parked.
    public func nack(_ action: NackAction = .retry, reason: String = "") async {
        self.consumer.settle(self.deliveryID, generation: self.generation, .nack(action), reason: reason, waiter: nil)
    }

    /// Acks the event and returns once the daemon has recorded the ack on disk.
    ///
    /// - Throws: ``LogbookError`` `.unavailable` when the connection ended first: the ack
    ///   may or may not have been recorded, so the event may come again.
    public func ackAndWait() async throws {
        try await self.settleAndWait(.ack, writes: [], reason: "")
    }

    /// Acks the event with view writes (see ``ack(writes:)``) and returns once the daemon
    /// has recorded the ack and applied the writes on disk.
    public func ackAndWait(writes: [ViewWrite]) async throws {
        for write in writes { try write.checkEncodable() }
        try await self.settleAndWait(.ack, writes: writes, reason: "")
    }

    /// Nacks the event and, for `.park` and `.skip`, returns once the daemon has recorded
    /// it on disk; a `.retry` has nothing to record and returns once sent.
    ///
    /// - Throws: ``LogbookError`` `.unavailable` when the connection ended first.
    public func nackAndWait(_ action: NackAction, reason: String = "") async throws {
        try await self.settleAndWait(.nack(action), writes: [], reason: reason)
    }

    /// Acks the event and calls `confirmed` once the daemon has recorded it on disk, or
    /// with the error that makes the outcome unknown. The callback runs on the connection's
    /// event loop: it must be quick. For the command-line tool, which prints confirmations
    /// in the order they arrive.
    package func ack(whenSettled confirmed: @escaping @Sendable (Result<Void, LogbookError>) -> Void) {
        self.consumer.settle(self.deliveryID, generation: self.generation, .ack, waiter: .callback(confirmed))
    }

    private func settleAndWait(_ settlement: GroupConsumer.Machine.Settlement, writes: [ViewWrite], reason: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            self.consumer.settle(
                self.deliveryID,
                generation: self.generation,
                settlement,
                writes: writes,
                reason: reason,
                waiter: .task(continuation)
            )
        }
    }
}
