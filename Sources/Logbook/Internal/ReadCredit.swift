/// How far a read lets the server run ahead of its consumer: the call's own flow control.
///
/// The read opens with ``initial`` events of credit. Each batch the consumer takes is
/// granted back, but never so much that the events granted and not yet taken (on the way
/// or buffered here) pass ``ClientLimits/readCreditEventsMax``, nor, at the size of the
/// events taken last, ``ClientLimits/readCreditBytesMax``. A reader that stops taking
/// events so holds a bounded amount and holds back nothing else on its connection.
///
/// Grants go in parts of at least a quarter of the window, so a fast reader sends a Credit
/// frame every few batches, not one per batch.
package struct ReadCredit: Sendable {
    package let initial: UInt32
    private let eventsMax: Int
    private let bytesMax: Int
    /// Events granted and not yet taken by the consumer.
    private var outstanding: Int

    package init(
        initial: Int = ClientLimits.readCreditInitial,
        eventsMax: Int = ClientLimits.readCreditEventsMax,
        bytesMax: Int = ClientLimits.readCreditBytesMax
    ) {
        self.eventsMax = max(1, eventsMax)
        self.initial = UInt32(clamping: min(max(1, initial), self.eventsMax))
        self.bytesMax = max(1, bytesMax)
        self.outstanding = Int(self.initial)
    }

    /// The consumer took a batch of `events` events of `bytes` bytes in all: the credit to
    /// grant now, if any.
    package mutating func took(events: Int, bytes: Int) -> UInt32? {
        guard events > 0 else { return nil }
        self.outstanding = max(0, self.outstanding - events)
        let eventBytes = max(1, bytes / events)
        let window = min(self.eventsMax, max(1, self.bytesMax / eventBytes))
        let shortfall = window - self.outstanding
        // With nothing outstanding the server waits for this grant, however small.
        guard shortfall > 0, self.outstanding == 0 || shortfall >= max(1, window / 4) else { return nil }
        self.outstanding += shortfall
        return UInt32(shortfall)
    }
}
