#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Where an append put one stream's events.
public struct AppendResult: Sendable, Hashable {
    /// The stream the events went to.
    public var stream: String
    /// The revision of the first event appended to the stream.
    public var firstRevision: UInt64
    /// The revision of the last event appended to the stream (its new head).
    public var lastRevision: UInt64
    /// The position of each event in the whole log, in the order they were given.
    public var positions: [UInt64]
    /// When the server committed the append (nil if it did not say).
    public var commitTime: Date?

    public init(stream: String, firstRevision: UInt64, lastRevision: UInt64, positions: [UInt64], commitTime: Date?) {
        self.stream = stream
        self.firstRevision = firstRevision
        self.lastRevision = lastRevision
        self.positions = positions
        self.commitTime = commitTime
    }
}
