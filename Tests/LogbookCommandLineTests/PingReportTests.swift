internal import Logbook
internal import LogbookCommandLine
internal import Testing

@Suite("What logbook ping prints")
struct PingReportTests {
    private static func report(_ roundTrip: Duration) -> PingReport {
        PingReport(socketPath: "/run/a \"b\".sock", serverVersion: "0.1.0", protocolVersion: 1, roundTrip: roundTrip)
    }

    @Test("the JSON object names the socket, both versions and the round trip in microseconds")
    func json() {
        let line = JSON.line { Self.report(.microseconds(1234)).appendJSON(to: &$0) }
        #expect(line == #"{"socket":"/run/a \"b\".sock","server_version":"0.1.0","protocol_version":1,"round_trip_us":1234}"#)
        #expect(JSON.isValid(Array(line.utf8)))
    }

    @Test(
        "the line shows the round trip in milliseconds with three decimals",
        arguments: [
            (Duration.nanoseconds(999), "0.000"),
            (.microseconds(7), "0.007"),
            (.microseconds(412), "0.412"),
            (.microseconds(4529), "4.529"),
            (.milliseconds(12), "12.000"),
            (.seconds(10) + .microseconds(5), "10000.005"),
        ]
    )
    func line(roundTrip: Duration, milliseconds: String) {
        #expect(Self.report(roundTrip).line == "logbookd 0.1.0 at /run/a \"b\".sock: protocol 1, round trip \(milliseconds) ms")
    }

    @Test("microseconds round down and are never negative")
    func microseconds() {
        #expect(Self.report(.nanoseconds(1999)).roundTripMicroseconds == 1)
        #expect(Self.report(.seconds(3)).roundTripMicroseconds == 3_000_000)
        #expect(Self.report(.zero - .microseconds(5)).roundTripMicroseconds == 0)
    }
}
