/// The events to append to one stream, and what the stream must look like first.
///
/// Several of these in one ``LogbookClient/append(_:)`` commit together or not at all.
public struct StreamAppend: Sendable, Hashable {
    public var stream: String
    public var expected: ExpectedRevision
    public var events: [EventData]

    public init(stream: String, expected: ExpectedRevision = .any, events: [EventData]) {
        self.stream = stream
        self.expected = expected
        self.events = events
    }
}
