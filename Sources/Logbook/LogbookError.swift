#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// An error from a Logbook call: the server refused it, or it could not be carried out.
///
/// Modelled on grpc-swift's `RPCError`: the `code` is one of the gRPC status codes the wire
/// protocol uses (so `code.rawValue` is the number the server sent), `message` says what
/// happened in words, and `details` carries what a program needs to react, such as the
/// actual revision of a stream after a wrong expected revision.
///
/// A call that could not reach the daemon, or whose connection broke, fails with
/// `.unavailable`; ``isSafeToRetry`` then says whether sending it again is safe.
public struct LogbookError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of error this is; the same numbers as the wire's `Status.code`.
    public var code: Code

    /// A human-readable explanation.
    public var message: String

    /// Typed details the server sent with the status, if any.
    public var details: Details?

    /// The lower-level error that caused this one, if any.
    public var cause: (any Error)?

    /// Whether the call can be sent again without risk of doing twice what it did.
    ///
    /// Set on `.unavailable` errors: the daemon could not be reached (nothing was sent), or
    /// the connection was lost while the call was in flight. True for reads, queries,
    /// subscriptions, admin reads (list, info) and appends (an append carries its event
    /// ids, so a retry of one that committed returns the original positions); false for
    /// admin changes (create, update, delete or reset a group, define or drop a view,
    /// replay parked events), whose effect may or may not have happened. False for every
    /// other error: sending the same request again would be refused again.
    public var isSafeToRetry = false

    /// True when the server answered the call with this status, false when the client
    /// produced the error itself (bad input, connection failure).
    package var isFromServer = false

    /// True when the call never left the client: its connection was lost before it was
    /// sent. The client sends such a call again on the next connection, whatever it is.
    package var wasNotSent = false

    public init(code: Code, message: String, details: Details? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.details = details
        self.cause = cause
    }

    public var description: String {
        if let cause = self.cause {
            return "\(self.code): \(self.message) (cause: \(cause))"
        }
        return "\(self.code): \(self.message)"
    }

    public static func == (lhs: LogbookError, rhs: LogbookError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.details == rhs.details
            && lhs.isFromServer == rhs.isFromServer && lhs.isSafeToRetry == rhs.isSafeToRetry
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
        hasher.combine(self.message)
        hasher.combine(self.details)
        hasher.combine(self.isFromServer)
        hasher.combine(self.isSafeToRetry)
    }
}

extension LogbookError {
    /// A status code: the gRPC code set, with the same numbers.
    ///
    /// A struct rather than an enum so that codes can be added without breaking a `switch`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's number on the wire (and in gRPC).
        public let rawValue: Int

        private init(_ rawValue: Int) {
            self.rawValue = rawValue
        }

        /// The code with this number, or nil for OK (0) and numbers outside the set.
        public init?(rawValue: Int) {
            guard let code = Self.all.first(where: { $0.rawValue == rawValue }) else { return nil }
            self = code
        }

        public static let cancelled = Code(1)
        public static let unknown = Code(2)
        public static let invalidArgument = Code(3)
        public static let deadlineExceeded = Code(4)
        public static let notFound = Code(5)
        public static let alreadyExists = Code(6)
        public static let permissionDenied = Code(7)
        public static let resourceExhausted = Code(8)
        public static let failedPrecondition = Code(9)
        public static let aborted = Code(10)
        public static let outOfRange = Code(11)
        public static let unimplemented = Code(12)
        public static let internalError = Code(13)
        public static let unavailable = Code(14)
        public static let dataLoss = Code(15)
        public static let unauthenticated = Code(16)

        static let all: [Code] = [
            .cancelled, .unknown, .invalidArgument, .deadlineExceeded, .notFound, .alreadyExists,
            .permissionDenied, .resourceExhausted, .failedPrecondition, .aborted, .outOfRange,
            .unimplemented, .internalError, .unavailable, .dataLoss, .unauthenticated,
        ]

        private static let names = [
            "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
            "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
            "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
            "UNAUTHENTICATED",
        ]

        /// The code's name as the protocol spells it, e.g. `FAILED_PRECONDITION`.
        public var description: String {
            Self.names.indices.contains(self.rawValue) ? Self.names[self.rawValue] : "CODE_\(self.rawValue)"
        }
    }
}

extension LogbookError {
    /// Typed details of a refusal.
    ///
    /// A struct with one optional property per kind of detail (at most one is set), so that
    /// kinds can be added without breaking a `switch`. The detail values come from the
    /// server; code that builds an error itself (a test double, say) uses the static
    /// functions below.
    public struct Details: Sendable, Hashable {
        /// Set when an append's expected revision did not match the stream.
        public var wrongExpectedRevision: WrongExpectedRevision?
        /// Set when an event id is already stored elsewhere.
        public var eventIDConflict: EventIDConflict?
        /// Set when a request went past one of the server's limits.
        public var limitExceeded: LimitExceeded?
        /// Set when a request field holds a value the server does not accept.
        public var badField: BadField?
        /// Set when an append or a delete met a stream deleted for good (tombstoned), or a
        /// read (`.notFound`) met a deleted stream.
        public var streamDeleted: StreamDeleted?

        private init() {}

        public static func wrongExpectedRevision(stream: String, expected: ExpectedRevision, actual: UInt64?) -> Details {
            var details = Details()
            details.wrongExpectedRevision = WrongExpectedRevision(stream: stream, expected: expected, actual: actual)
            return details
        }

        public static func eventIDConflict(eventID: UUID?, stream: String, revision: UInt64) -> Details {
            var details = Details()
            details.eventIDConflict = EventIDConflict(eventID: eventID, stream: stream, revision: revision)
            return details
        }

        public static func limitExceeded(limit: String, value: UInt64, max: UInt64) -> Details {
            var details = Details()
            details.limitExceeded = LimitExceeded(limit: limit, value: value, max: max)
            return details
        }

        public static func badField(field: String, reason: String) -> Details {
            var details = Details()
            details.badField = BadField(field: field, reason: reason)
            return details
        }

        public static func streamDeleted(stream: String, hard: Bool) -> Details {
            var details = Details()
            details.streamDeleted = StreamDeleted(stream: stream, hard: hard)
            return details
        }
    }

    /// The deleted stream an append, a delete or a read was refused for.
    public struct StreamDeleted: Sendable, Hashable {
        public var stream: String
        /// Deleted for good (tombstoned): it can never be written again.
        public var hard: Bool
    }

    /// The stream's actual state when an append's expected revision did not match it.
    public struct WrongExpectedRevision: Sendable, Hashable {
        public var stream: String
        public var expected: ExpectedRevision
        /// The stream's last revision, or nil when the stream does not exist.
        public var actual: UInt64?
    }

    /// Where an event id that an append reused is already stored.
    public struct EventIDConflict: Sendable, Hashable {
        /// The conflicting id (nil if the server sent one that is not 16 bytes).
        public var eventID: UUID?
        public var stream: String
        public var revision: UInt64
    }

    /// Which limit a request went past, by how much.
    public struct LimitExceeded: Sendable, Hashable {
        public var limit: String
        public var value: UInt64
        public var max: UInt64
    }

    /// A request field the server refused, and why.
    public struct BadField: Sendable, Hashable {
        public var field: String
        public var reason: String
    }
}
