@testable internal import LogbookStorage

extension GroupDefinition {
    /// A group with everything but its name, selector and start at fixed test values: the
    /// store has no defaults of its own (the server's are `LogbookWire.GroupDefaults`).
    static func fixture(_ name: String, _ selector: Selector = .all, start: GroupStart = .start) -> GroupDefinition {
        GroupDefinition(
            name: name, selector: selector, start: start, filter: ReadFilter(), strategy: .byStream, maxInFlight: 64,
            ackTimeoutMilliseconds: 30_000, maxDeliveries: 10, retryBackoffMilliseconds: 200)
    }
}
