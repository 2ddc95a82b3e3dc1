/// The refusals both engines give an append, worded once.
package enum AppendErrors {
    package static func wrongExpectedRevision(_ write: PreparedWrite, head: UInt64?) -> StorageError {
        wrongExpectedRevision(write.stream, write.expected, head: head)
    }

    /// `head`: the last revision as an expected revision sees it (nil: absent or deleted).
    package static func wrongExpectedRevision(_ stream: String, _ expected: ExpectedRevision, head: UInt64?) -> StorageError {
        let actual = head.map { "the last revision is \($0)" } ?? "the stream does not exist"
        return StorageError(
            code: .wrongExpectedRevision,
            message: """
                wrong expected revision for stream '\(stream)': \
                expected \(expected), \(actual)
                """,
            detail: .wrongExpectedRevision(stream: stream, expected: expected, actual: head)
        )
    }

    /// A write to a tombstoned stream.
    package static func tombstoned(_ stream: String) -> StorageError {
        StorageError(
            code: .failedPrecondition,
            message: "stream '\(stream)' was deleted for good (tombstoned); it cannot be written again",
            detail: .streamDeleted(stream: stream, hard: true))
    }

    /// A read of a deleted stream.
    package static func readOfDeleted(_ stream: String, _ lifecycle: StreamLifecycle) -> StorageError {
        let how = lifecycle.isTombstoned ? "deleted for good (tombstoned)" : "deleted"
        return StorageError(
            code: .notFound, message: "stream '\(stream)' was \(how)",
            detail: .streamDeleted(stream: stream, hard: lifecycle.isTombstoned))
    }

    /// The refusal of a lifecycle rule as the error a caller gets.
    static func refusal(_ refusal: StreamLifecycle.Refusal, _ stream: String, _ expected: ExpectedRevision) -> StorageError {
        switch refusal {
        case .wrongExpectedRevision(let actual): wrongExpectedRevision(stream, expected, head: actual)
        case .streamDeleted: tombstoned(stream)
        }
    }

    /// `existing`: the stream and revision that already hold the id.
    package static func conflict(_ id: EventID, _ existing: (stream: String, revision: UInt64)) -> StorageError {
        StorageError(
            code: .eventIDConflict,
            message: "event id \(id) already exists at revision \(existing.revision) of stream '\(existing.stream)'",
            detail: .eventIDConflict(id: id, stream: existing.stream, revision: existing.revision))
    }
}
