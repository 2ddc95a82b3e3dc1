/// On-demand projections: state rebuilt from a stream when it is needed, without a view.
extension LogbookClient {
    /// A value folded from a stream's events, and the revision it reflects.
    public struct Aggregate<Value: Sendable>: Sendable {
        /// What `apply` made of the events.
        public var value: Value
        /// The revision of the last event folded in; nil when the stream has no events
        /// (the value is then `initial`). Append with `.exact(revision)` to change the
        /// stream only if no one else did since.
        public var revision: UInt64?
    }

    /// Folds a stream, from its first event, into a value: the event-sourcing way to load
    /// an entity's state (an order, an account) before deciding what to append.
    ///
    /// ```swift
    /// let order = try await client.aggregate(stream: "order-42", initial: Order()) { order, event in
    ///     try order.apply(event)
    /// }
    /// try await client.append(to: "order-42", expected: order.revision.map { .exact($0) } ?? .noStream, events: [shipped])
    /// ```
    ///
    /// - Parameters:
    ///   - stream: The stream to fold.
    ///   - initial: The value before the first event.
    ///   - asOf: Folds the stream as it was when this was the log's last position.
    ///   - apply: Folds one event into the value; throwing stops the fold and is rethrown.
    public func aggregate<Value: Sendable>(
        stream: String,
        initial: Value,
        asOf: UInt64? = nil,
        timeout: Duration? = nil,
        apply: (inout Value, RecordedEvent) throws -> Void
    ) async throws -> Aggregate<Value> {
        var value = initial
        var revision: UInt64?
        for try await event in self.read(.stream(stream), asOf: asOf, timeout: timeout) {
            try apply(&value, event)
            revision = event.revision
        }
        return Aggregate(value: value, revision: revision)
    }
}
