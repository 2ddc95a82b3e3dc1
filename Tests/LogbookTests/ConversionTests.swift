internal import Foundation
internal import LogbookWire
internal import Testing

@testable internal import Logbook

@Suite("The one conversion of each value for the wire")
struct ConversionTests {
    @Test(
        "a duration is whole milliseconds, rounded up; nothing is 0; past UInt64 saturates",
        arguments: [
            (Duration.zero, 0 as UInt64),
            (.milliseconds(-5), 0),
            (.nanoseconds(1), 1),
            (.microseconds(999), 1),
            (.milliseconds(1), 1),
            (.microseconds(1_001), 2),
            (.milliseconds(1500), 1500),
            (.seconds(30), 30_000),
            (.seconds(Int64.max), UInt64.max),
        ]
    )
    func milliseconds(_ duration: Duration, _ expected: UInt64) {
        #expect(duration.roundedUpMilliseconds == expected)
    }

    @Test(
        "a duration in a log line or a message reads in milliseconds, then in seconds from 10 s",
        arguments: [
            (Duration.microseconds(1), "1 ms"),
            (.milliseconds(250), "250 ms"),
            (.milliseconds(9_999), "9999 ms"),
            (.seconds(10), "10 s"),
            (.seconds(30), "30 s"),
        ]
    )
    func readable(_ duration: Duration, _ expected: String) {
        #expect(duration.readable == expected)
    }

    @Test("a query's wait and a call's deadline round up the same way")
    func waitsAndDeadlines() throws {
        let query = try ViewQuery("v", minPosition: 3, wait: .microseconds(1)).wire(cursor: nil)
        #expect(query.waitMs == 1)
        let long = try ViewQuery("v", minPosition: 3, wait: .seconds(Int64.max)).wire(cursor: nil)
        #expect(long.waitMs == UInt32.max)
    }

    @Test(
        "every start maps to the wire's StartFrom and back",
        arguments: [
            (StartPoint.start, StartFrom.Kind.start(Empty())),
            (.end, .end(Empty())),
            (.position(7), .position(7)),
            (.revision(3), .revision(3)),
        ]
    )
    func starts(_ point: StartPoint, _ kind: StartFrom.Kind) {
        #expect(point.wire == StartFrom(kind: kind))
        #expect(StartPoint(wire: StartFrom(kind: kind)) == point)
    }

    @Test("no start on the wire is the start")
    func noStart() {
        #expect(StartPoint(wire: nil) == .start)
        #expect(StartPoint(wire: StartFrom()) == .start)
    }

    @Test("reads, subscriptions and groups say the same start the same way on the wire")
    func oneMapping() {
        #expect(ReadPosition.position(9).point.wire == SubscriptionStart.after(position: 9).point.wire)
        #expect(SubscriptionStart.after(position: 9).point.wire == GroupSettings.Start.position(9).point.wire)
        #expect(ReadPosition.revision(2).point.wire == SubscriptionStart.after(revision: 2).point.wire)
        #expect(ReadPosition.end.point.wire == GroupSettings.Start.end.point.wire)
    }

    @Test("wire times are microseconds since the epoch, each way")
    func times() {
        let date = Date(unixMicros: 1_714_566_896_789_012)
        #expect(abs(date.timeIntervalSince1970 - 1_714_566_896.789_012) < 0.000_01)
        #expect(date.unixMicrosAfterEpoch.map { abs($0 - 1_714_566_896_789_012) <= 1 } == true)
        #expect(Date(timeIntervalSince1970: 0).unixMicrosAfterEpoch == nil)
        #expect(Date(timeIntervalSince1970: -1).unixMicrosAfterEpoch == nil)
        #expect(Date(timeIntervalSince1970: 1e300).unixMicrosAfterEpoch == nil)
    }

    @Test("a malformed event drops the rest of its batch")
    func bufferedTake() throws {
        var buffered = Buffered<Int>()
        buffered.refill([1, 2, 3])
        #expect(try buffered.take { $0 * 10 } == 10)
        #expect(throws: LogbookError.self) {
            try buffered.take { (_: Int) throws(LogbookError) -> Int in throw LogbookError(code: .internalError, message: "bad") }
        }
        #expect(buffered.isEmpty)
        #expect(try buffered.take { $0 } == nil)
    }
}
