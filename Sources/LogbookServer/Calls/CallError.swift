internal import LogbookStorage
internal import LogbookWire

/// Why a call failed, as the Status its client receives.
///
/// Handlers throw this; the connection turns it into the call's last frame. Every error a
/// call can end with maps to a Status here, once (`init(_:)`), so every call and every
/// path (a task, the event loop's appends and lookups, a group's refused ack) reports
/// the same failure alike.
struct CallError: Error {
    var status: Status

    init(_ code: Code, _ message: String, detail: Status.Detail? = nil) {
        self.status = Status(code: code, message: message, detail: detail)
    }

    init(_ status: Status) {
        self.status = status
    }

    /// Any error as the Status it ends a call with: the ones a layer names (`named(_:)`)
    /// with their code, anything else as INTERNAL, a bug.
    init(_ error: any Error) {
        self = Self.named(error) ?? CallError(.internal, "internal error: \(error)")
    }

    /// The errors the server, the store and the wire codec name, with their Status; nil
    /// for any other error.
    static func named(_ error: any Error) -> CallError? {
        switch error {
        case let error as CallError: error
        case let error as StorageError: CallError(storage: error)
        case let error as WireError: CallError(error.code, error.message)
        default: nil
        }
    }

    static func badField(_ field: String, _ reason: String) -> CallError {
        CallError(.invalidArgument, "\(field): \(reason)", detail: .badField(BadField(field: field, reason: reason)))
    }

    static func limit(_ name: String, value: Int, max: Int, code: Code) -> CallError {
        CallError(
            code,
            "\(name) exceeded: \(value) is more than \(max)",
            detail: .limitExceeded(LimitExceeded(limit: name, value: UInt64(value), max: UInt64(max)))
        )
    }

    private init(storage error: StorageError) {
        switch error.detail {
        case .wrongExpectedRevision(let stream, let expected, let actual):
            self.init(
                .failedPrecondition,
                error.message,
                detail: .wrongExpectedRevision(WrongExpectedRevision(
                    stream: stream,
                    expected: Conversions.wireExpected(expected),
                    streamExists: actual != nil,
                    actualRevision: actual ?? 0
                ))
            )
            return
        case .eventIDConflict(let id, let stream, let revision):
            self.init(
                .alreadyExists,
                error.message,
                detail: .eventIDConflict(EventIdConflict(eventID: id.bytes, stream: stream, revision: revision))
            )
            return
        case .streamDeleted(let stream, let hard):
            // A write to a tombstoned stream, or a read of a deleted one.
            self.init(
                error.code == .notFound ? .notFound : .failedPrecondition, error.message,
                detail: .streamDeleted(StreamDeleted(stream: stream, hard: hard)))
            return
        case nil:
            break
        }
        let code: Code
        switch error.code {
        case .wrongExpectedRevision: code = .failedPrecondition
        case .eventIDConflict: code = .alreadyExists
        case .invalidArgument: code = .invalidArgument
        case .diskFull: code = .resourceExhausted
        case .overloaded: code = .unavailable
        case .stopped: code = .unavailable
        case .unsupportedSchema, .inUse: code = .failedPrecondition
        case .groupExists, .viewExists: code = .alreadyExists
        case .failedPrecondition: code = .failedPrecondition
        case .notFound: code = .notFound
        case .corrupt: code = .dataLoss
        case .unimplemented: code = .unimplemented
        default: code = .internal
        }
        self.init(code, error.message)
    }
}

extension CallError {
    /// What a call or a connection ends with when the server stops (graceful shutdown).
    static let shuttingDown = CallError(.unavailable, "the server is shutting down")
}
