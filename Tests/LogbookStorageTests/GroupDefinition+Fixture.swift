@testable internal import LogbookStorage

extension GroupDefinition {
    /// A group with everything but its name, selector and start at fixed test values (not
    /// the defaults: the store has none of its own, the server's are
    /// `LogbookWire.GroupDefaults`).
    static func fixture(_ name: String, _ selector: Selector = .all, start: GroupStart = .start) -> GroupDefinition {
        GroupDefinition(
            name: name, selector: selector, start: start, filter: ReadFilter(), strategy: .byStream, maxInFlight: 16,
            ackTimeoutMilliseconds: 5_000, maxDeliveries: 4, retryBackoffMilliseconds: 50)
    }
}
