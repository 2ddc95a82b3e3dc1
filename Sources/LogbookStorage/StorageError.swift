/// An error from the event store.
///
/// Modelled on grpc-swift-2's `RPCError`: an extensible `Code` (a struct, so new codes
/// are not a breaking change), a human message, typed details where a caller acts on
/// them, and the underlying error when there is one.
package struct StorageError: Error, Sendable, CustomStringConvertible {
    package var code: Code
    package var message: String
    package var detail: Detail?
    package var cause: (any Error)?

    package init(code: Code, message: String, detail: Detail? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
        self.cause = cause
    }

    package var description: String {
        if let cause {
            return "\(code): \(message) (cause: \(cause))"
        }
        return "\(code): \(message)"
    }
}

extension StorageError {
    /// Typed facts a caller can act on (the wire carries them as status details).
    package enum Detail: Sendable, Hashable {
        /// `actual` is the stream's last revision, nil when the stream does not exist.
        case wrongExpectedRevision(stream: String, expected: ExpectedRevision, actual: UInt64?)
        /// The id is already used by the event at `revision` of `stream`.
        case eventIDConflict(id: EventID, stream: String, revision: UInt64)
        /// The stream was deleted (`hard`: tombstoned, for good).
        case streamDeleted(stream: String, hard: Bool)
    }

    /// What went wrong, as a small extensible set.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String, Hashable, Sendable {
            case wrongExpectedRevision
            case eventIDConflict
            case invalidArgument
            case diskFull
            case overloaded
            case stopped
            case notFound
            case groupExists
            case viewExists
            case failedPrecondition
            case corrupt
            case unsupportedSchema
            case inUse
            case internalError
            case unimplemented
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        package var description: String { wrapped.rawValue }

        /// A stream's last revision is not what the append expected (FAILED_PRECONDITION).
        package static let wrongExpectedRevision = Self(.wrongExpectedRevision)
        /// An event id is already used elsewhere in the log (ALREADY_EXISTS).
        package static let eventIDConflict = Self(.eventIDConflict)
        /// The request itself is malformed (INVALID_ARGUMENT).
        package static let invalidArgument = Self(.invalidArgument)
        /// The disk (or the configured page limit) is full; reads still work
        /// (RESOURCE_EXHAUSTED).
        package static let diskFull = Self(.diskFull)
        /// The append queue is at its bound; retry later (UNAVAILABLE).
        package static let overloaded = Self(.overloaded)
        /// The writer no longer accepts appends: shutting down, or fail-stopped after an
        /// I/O error (UNAVAILABLE).
        package static let stopped = Self(.stopped)
        /// The stream or the group does not exist (NOT_FOUND).
        package static let notFound = Self(.notFound)
        /// A group of that name already exists (ALREADY_EXISTS).
        package static let groupExists = Self(.groupExists)
        /// A different view of that name already exists (ALREADY_EXISTS).
        package static let viewExists = Self(.viewExists)
        /// The request names things that exist but do not fit together, such as a write to
        /// a view another group owns, or deleting a group that still owns views
        /// (FAILED_PRECONDITION).
        package static let failedPrecondition = Self(.failedPrecondition)
        /// The database file or a row in it is damaged (DATA_LOSS).
        package static let corrupt = Self(.corrupt)
        /// The database was written by a newer Logbook (FAILED_PRECONDITION).
        package static let unsupportedSchema = Self(.unsupportedSchema)
        /// Another process holds the data directory (FAILED_PRECONDITION).
        package static let inUse = Self(.inUse)
        /// A bug or an unexpected SQLite error (INTERNAL).
        package static let internalError = Self(.internalError)
        /// This store does not offer the call yet (UNIMPLEMENTED).
        package static let unimplemented = Self(.unimplemented)
    }
}

extension StorageError {
    package static func invalidArgument(_ message: String) -> StorageError {
        StorageError(code: .invalidArgument, message: message)
    }

    package static func corrupt(_ message: String, cause: (any Error)? = nil) -> StorageError {
        StorageError(code: .corrupt, message: message, cause: cause)
    }

    static func stopped(_ message: String) -> StorageError {
        StorageError(code: .stopped, message: message)
    }
}
