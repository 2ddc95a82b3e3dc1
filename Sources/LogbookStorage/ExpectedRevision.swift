/// What the appender believes about a stream's last revision (optimistic concurrency).
package enum ExpectedRevision: Hashable, Sendable, CustomStringConvertible {
    /// No check.
    case any
    /// The stream must not exist yet.
    case noStream
    /// The stream must exist (have at least one event).
    case streamExists
    /// The stream's last revision must be exactly this.
    case exact(UInt64)

    /// Whether a stream whose last revision is `head` (nil: no stream) satisfies this.
    package func isSatisfied(byHead head: UInt64?) -> Bool {
        switch self {
        case .any: true
        case .noStream: head == nil
        case .streamExists: head != nil
        case .exact(let revision): head == revision
        }
    }

    package var description: String {
        switch self {
        case .any: "any"
        case .noStream: "no stream"
        case .streamExists: "stream exists"
        case .exact(let revision): "revision \(revision)"
        }
    }
}
