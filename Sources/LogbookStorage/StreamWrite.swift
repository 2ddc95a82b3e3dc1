/// The part of an append that targets one stream.
package struct StreamWrite: Sendable {
    package var stream: String
    package var expected: ExpectedRevision
    package var events: [ProposedEvent]

    package init(stream: String, expected: ExpectedRevision = .any, events: [ProposedEvent]) {
        self.stream = stream
        self.expected = expected
        self.events = events
    }
}
