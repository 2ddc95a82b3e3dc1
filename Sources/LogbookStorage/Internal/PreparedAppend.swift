package import Foundation

/// An append that passed validation, in the form the writer binds without more work.
///
/// Ids are assigned and blobs built on the appending task, off the single writer
/// thread, so the writer only checks revisions, binds and steps statements.
package struct PreparedAppend: Sendable {
    package var writes: [PreparedWrite]
    package var eventCount: Int
}

/// One stream's part of a `PreparedAppend`.
package struct PreparedWrite: Sendable {
    package var stream: String
    package var category: String
    package var expected: ExpectedRevision
    package var events: [PreparedEvent]
}

/// One event of a `PreparedWrite`, with its blobs already encoded.
package struct PreparedEvent: Sendable {
    package var id: EventID
    package var type: String
    package var data: Data
    package var contentType: String
    package var metadata: Data
    package var correlationID: String
    package var causationID: String
}

/// An append waiting in the queue for the writer, with whoever waits for its outcome.
struct PendingAppend: Sendable {
    var append: PreparedAppend
    /// Called once, on the writer thread: keep it short.
    var completion: @Sendable (Result<AppendResult, any Error>) -> Void
}

/// An append that passed validation and waits to be queued (`EventStore.check`).
package struct CheckedAppend: Sendable {
    let pending: PendingAppend

    init(pending: PendingAppend) {
        self.pending = pending
    }

    /// For a store outside this module (PostgreSQL) that checks appends with the same rules.
    package init(append: PreparedAppend, completion: @escaping @Sendable (Result<AppendResult, any Error>) -> Void) {
        pending = PendingAppend(append: append, completion: completion)
    }

    package var append: PreparedAppend { pending.append }
    package var completion: @Sendable (Result<AppendResult, any Error>) -> Void { pending.completion }
}
