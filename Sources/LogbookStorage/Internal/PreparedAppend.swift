internal import Foundation

/// An append that passed validation, in the form the writer binds without more work.
///
/// Ids are assigned and blobs built on the appending task, off the single writer
/// thread, so the writer only checks revisions, binds and steps statements.
struct PreparedAppend: Sendable {
    var writes: [PreparedWrite]
    var eventCount: Int
}

/// One stream's part of a `PreparedAppend`.
struct PreparedWrite: Sendable {
    var stream: String
    var category: String
    var expected: ExpectedRevision
    var events: [PreparedEvent]
}

/// One event of a `PreparedWrite`, with its blobs already encoded.
struct PreparedEvent: Sendable {
    var id: EventID
    var type: String
    var data: Data
    var contentType: String
    var metadata: Data
    var correlationID: String
    var causationID: String
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
}
