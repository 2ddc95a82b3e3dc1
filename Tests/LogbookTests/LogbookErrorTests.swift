internal import Foundation
internal import LogbookWire
internal import Testing

@testable internal import Logbook

@Suite("LogbookError")
struct LogbookErrorTests {
    @Test("every wire code maps to the public code with the same number and name", arguments: LogbookWire.Code.allCases)
    func codes(_ wire: LogbookWire.Code) {
        guard wire != .ok else {
            #expect(LogbookError.Code(rawValue: 0) == nil)
            return
        }
        let error = LogbookError(status: Status(code: wire, message: "m"))
        #expect(error.code.rawValue == Int(wire.rawValue))
        #expect(error.isFromServer)
        #expect(error.message == "m")
    }

    @Test("codes print as the protocol spells them")
    func names() {
        #expect(LogbookError.Code.failedPrecondition.description == "FAILED_PRECONDITION")
        #expect(LogbookError.Code.failedPrecondition.rawValue == 9)
        #expect(LogbookError.Code.notFound.rawValue == 5)
        #expect(LogbookError.Code.internalError.description == "INTERNAL")
        #expect(LogbookError.Code.unavailable.rawValue == 14)
        #expect(LogbookError.Code(rawValue: 12) == .unimplemented)
    }

    @Test("a wrong expected revision carries the stream, the expectation and the actual revision")
    func wrongExpectedRevision() {
        let exists = LogbookError(
            status: Status(
                code: .failedPrecondition,
                message: "wrong expected revision",
                detail: .wrongExpectedRevision(
                    WrongExpectedRevision(
                        stream: "order-1",
                        expected: LogbookWire.ExpectedRevision(kind: .exact, revision: 5),
                        streamExists: true,
                        actualRevision: 2
                    )
                )
            )
        )
        #expect(exists.details == .wrongExpectedRevision(stream: "order-1", expected: .exact(5), actual: 2))

        let missing = LogbookError(
            status: Status(
                code: .failedPrecondition,
                detail: .wrongExpectedRevision(
                    WrongExpectedRevision(
                        stream: "order-2",
                        expected: LogbookWire.ExpectedRevision(kind: .streamExists),
                        streamExists: false
                    )
                )
            )
        )
        #expect(missing.details?.wrongExpectedRevision?.actual == nil)
        #expect(missing.details?.wrongExpectedRevision?.expected == .streamExists)
        #expect(!missing.message.isEmpty)
    }

    @Test("the other details map to their typed forms")
    func otherDetails() {
        let id = UUID()
        let conflict = LogbookError(
            status: Status(
                code: .alreadyExists,
                detail: .eventIDConflict(EventIdConflict(eventID: id.bytes, stream: "s", revision: 3))
            )
        )
        #expect(conflict.details == .eventIDConflict(eventID: id, stream: "s", revision: 3))

        let limit = LogbookError(
            status: Status(
                code: .resourceExhausted,
                detail: .limitExceeded(LimitExceeded(limit: "events_per_append_max", value: 2000, max: 1000))
            )
        )
        #expect(limit.details?.limitExceeded == LogbookError.LimitExceeded(limit: "events_per_append_max", value: 2000, max: 1000))

        let field = LogbookError(
            status: Status(code: .invalidArgument, detail: .badField(BadField(field: "stream", reason: "empty")))
        )
        #expect(field.details?.badField == LogbookError.BadField(field: "stream", reason: "empty"))
        #expect(field.details?.limitExceeded == nil)
    }

    @Test("an error made by the client is not a server refusal")
    func local() {
        let error = LogbookError(code: .unavailable, message: "cannot connect")
        #expect(!error.isFromServer)
        #expect("\(error)" == "UNAVAILABLE: cannot connect")
    }
}
