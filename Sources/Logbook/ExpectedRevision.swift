/// What an append expects of a stream before it writes (optimistic concurrency).
///
/// A mismatch fails the append with `FAILED_PRECONDITION` and a
/// ``LogbookError/WrongExpectedRevision`` detail; nothing of the append is written.
public struct ExpectedRevision: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case any
        case noStream
        case streamExists
        case exact(UInt64)
    }

    let kind: Kind


    /// No check: append whatever the stream holds.
    public static let any = ExpectedRevision(kind: .any)
    /// The stream must not exist yet.
    public static let noStream = ExpectedRevision(kind: .noStream)
    /// The stream must exist (hold at least one event).
    public static let streamExists = ExpectedRevision(kind: .streamExists)

    /// The stream's last revision must be `revision`.
    public static func exact(_ revision: UInt64) -> ExpectedRevision {
        ExpectedRevision(kind: .exact(revision))
    }

    /// The revision an `exact` expectation names, nil for the others.
    public var revision: UInt64? {
        if case .exact(let revision) = self.kind { return revision }
        return nil
    }

    public var description: String {
        switch self.kind {
        case .any: "any"
        case .noStream: "no stream"
        case .streamExists: "stream exists"
        case .exact(let revision): String(revision)
        }
    }
}
