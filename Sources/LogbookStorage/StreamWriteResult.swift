/// Where one stream's events of an append landed.
package struct StreamWriteResult: Sendable, Equatable {
    package var stream: String
    package var firstRevision: UInt64
    package var lastRevision: UInt64
    /// The `$all` position of each event, in the order the events were given.
    package var positions: [UInt64]

    package init(stream: String, firstRevision: UInt64, lastRevision: UInt64, positions: [UInt64]) {
        (self.stream, self.firstRevision, self.lastRevision, self.positions) = (stream, firstRevision, lastRevision, positions)
    }
}
