/// The refusals both engines give an append, worded once.
package enum AppendErrors {
    package static func wrongExpectedRevision(_ write: PreparedWrite, head: UInt64?) -> StorageError {
        let actual = head.map { "the last revision is \($0)" } ?? "the stream does not exist"
        return StorageError(
            code: .wrongExpectedRevision,
            message: """
                wrong expected revision for stream '\(write.stream)': \
                expected \(write.expected), \(actual)
                """,
            detail: .wrongExpectedRevision(stream: write.stream, expected: write.expected, actual: head)
        )
    }

    /// `existing`: the stream and revision that already hold the id.
    package static func conflict(_ id: EventID, _ existing: (stream: String, revision: UInt64)) -> StorageError {
        StorageError(
            code: .eventIDConflict,
            message: "event id \(id) already exists at revision \(existing.revision) of stream '\(existing.stream)'",
            detail: .eventIDConflict(id: id, stream: existing.stream, revision: existing.revision))
    }
}
