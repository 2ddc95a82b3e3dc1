internal import Foundation
internal import LogbookWire
internal import Testing

@testable internal import Logbook

@Suite("Group settings, info and parked events on the wire")
struct GroupMappingTests {
    private let id = UUID(uuidString: "0190A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B")!

    @Test("the defaults are the server's, and go on the wire as numbers, not as 0")
    func defaults() throws {
        let settings = Logbook.GroupSettings(name: "projector", selector: .all)
        let wire = try settings.wire()
        #expect(
            wire
                == LogbookWire.GroupSettings(
                    name: "projector",
                    selector: Selector(kind: .all(Empty())),
                    from: StartFrom(kind: .start(Empty())),
                    filter: nil,
                    strategy: .byStream,
                    maxInFlight: 64,
                    ackTimeoutMs: 30_000,
                    maxDeliveries: 10,
                    retryBackoffMs: 200
                )
        )
    }

    @Test("every field maps to its wire field")
    func everyField() throws {
        let settings = Logbook.GroupSettings(
            name: "g",
            selector: .category("order"),
            start: .position(42),
            filter: ReadFilter(eventTypes: ["A", "B"], streamPrefix: "order-1"),
            strategy: .roundRobin,
            maxInFlight: 3,
            ackTimeout: .milliseconds(1500),
            maxDeliveries: 1,
            retryBackoff: .seconds(2)
        )
        #expect(
            try settings.wire()
                == LogbookWire.GroupSettings(
                    name: "g",
                    selector: Selector(kind: .category("order")),
                    from: StartFrom(kind: .position(42)),
                    filter: Filter(eventTypes: ["A", "B"], streamPrefix: "order-1"),
                    strategy: .roundRobin,
                    maxInFlight: 3,
                    ackTimeoutMs: 1500,
                    maxDeliveries: 1,
                    retryBackoffMs: 2000
                )
        )
    }

    @Test(
        "settings come back from the wire as they went",
        arguments: [
            Logbook.GroupSettings(name: "a", selector: .stream("order-1")),
            Logbook.GroupSettings(name: "b", selector: .all, start: .end, strategy: .single),
            Logbook.GroupSettings(
                name: "c", selector: .eventType("Paid"), start: .position(7),
                filter: ReadFilter(streamPrefix: "x-"), strategy: .roundRobin,
                maxInFlight: 1, ackTimeout: .milliseconds(1), maxDeliveries: 99, retryBackoff: .seconds(60)
            ),
            Logbook.GroupSettings(name: "d", selector: .category("c"), filter: ReadFilter(eventTypes: ["T"])),
        ]
    )
    func roundTrip(_ settings: Logbook.GroupSettings) throws {
        #expect(try Logbook.GroupSettings(wire: settings.wire()) == settings)
    }

    @Test("an empty filter goes as no filter, whichever way it is spelled")
    func emptyFilter() throws {
        let settings = Logbook.GroupSettings(name: "g", selector: .all, filter: ReadFilter(eventTypes: [], streamPrefix: ""))
        #expect(try settings.wire().filter == nil)
    }

    @Test("a duration is whole milliseconds, rounded up so that it never becomes 0")
    func durationsRoundUp() throws {
        var settings = Logbook.GroupSettings(name: "g", selector: .all)
        settings.ackTimeout = .microseconds(1)
        settings.retryBackoff = .microseconds(2_500)
        let wire = try settings.wire()
        #expect(wire.ackTimeoutMs == 1)
        #expect(wire.retryBackoffMs == 3)
    }

    private static func settings(_ change: (inout Logbook.GroupSettings) -> Void) -> Logbook.GroupSettings {
        var settings = Logbook.GroupSettings(name: "g", selector: .all)
        change(&settings)
        return settings
    }

    /// On the wire 0 means "the server's default", so the user's 0 must not go out as one.
    @Test(
        "a value the wire cannot carry is refused locally with INVALID_ARGUMENT",
        arguments: [
            ("maxInFlight", Self.settings { $0.maxInFlight = 0 }),
            ("maxInFlight", Self.settings { $0.maxInFlight = Int(UInt32.max) + 1 }),
            ("maxDeliveries", Self.settings { $0.maxDeliveries = -1 }),
            ("ackTimeout", Self.settings { $0.ackTimeout = .zero }),
            ("ackTimeout", Self.settings { $0.ackTimeout = .seconds(5_000_000) }),
            ("retryBackoff", Self.settings { $0.retryBackoff = .milliseconds(-5) }),
        ]
    )
    func refusedLocally(_ field: String, _ settings: Logbook.GroupSettings) {
        #expect {
            _ = try settings.wire()
        } throws: { error in
            let error = error as? LogbookError
            return error?.code == .invalidArgument && error?.isFromServer == false
                && error?.details?.badField?.field == "GroupSettings.\(field)"
        }
    }

    @Test("a group's info maps every count")
    func info() throws {
        let wire = LogbookWire.GroupInfo(
            settings: try Logbook.GroupSettings(name: "g", selector: .stream("s"), strategy: .single).wire(),
            checkpoint: 17,
            lag: 5,
            consumers: 2,
            inFlight: 9,
            parked: 3
        )
        let info = try Logbook.GroupInfo(wire: wire)
        #expect(info.name == "g")
        #expect(info.settings.selector == .stream("s"))
        #expect(info.settings.strategy == .single)
        #expect(info.checkpoint == 17)
        #expect(info.lag == 5)
        #expect(info.consumers == 2)
        #expect(info.inFlight == 9)
        #expect(info.parked == 3)
    }

    @Test("info without settings, or settings without a selector or starting at a revision, are the server's error")
    func malformedInfo() {
        #expect(throws: LogbookError.self) { try Logbook.GroupInfo(wire: LogbookWire.GroupInfo()) }
        #expect(throws: LogbookError.self) { try Logbook.GroupSettings(wire: LogbookWire.GroupSettings(name: "g")) }
        #expect(throws: LogbookError.self) {
            try Logbook.GroupSettings(wire: LogbookWire.GroupSettings(
                name: "g", selector: Selector(kind: .all(Empty())), from: StartFrom(kind: .revision(3))))
        }
    }

    private func wireEvent(id: [UInt8]? = nil) -> LogbookWire.RecordedEvent {
        LogbookWire.RecordedEvent(
            stream: "p-0", revision: 2, position: 5, id: id ?? self.id.bytes, type: "Tested",
            data: Array(#"{"r":2}"#.utf8), contentType: "application/json", timeUnixMicros: 1_714_566_896_789_012
        )
    }

    @Test("a parked event carries its event, reason, attempts and time")
    func parked() throws {
        let parked = try Logbook.ParkedEvent(wire: LogbookWire.ParkedEvent(
            event: self.wireEvent(), reason: "poison; delivered 2 times", attempts: 2, parkedUnixMicros: 1_714_566_900_000_001
        ))
        #expect(parked.event.stream == "p-0")
        #expect(parked.event.revision == 2)
        #expect(parked.event.position == 5)
        #expect(parked.event.id == self.id)
        #expect(parked.reason == "poison; delivered 2 times")
        #expect(parked.attempts == 2)
        #expect(parked.parkedAtUnixMicros == 1_714_566_900_000_001)
        #expect(abs(parked.parkedAt.timeIntervalSince1970 - 1_714_566_900.000001) < 0.000_01)
    }

    @Test("a parked entry without its event, or with a bad event id, is the server's error")
    func malformedParked() {
        #expect(throws: LogbookError.self) { try Logbook.ParkedEvent(wire: LogbookWire.ParkedEvent(reason: "x")) }
        #expect(throws: LogbookError.self) { try Logbook.ParkedEvent(wire: LogbookWire.ParkedEvent(event: self.wireEvent(id: [1, 2]))) }
    }
}

@Suite("Group settings: defaults and strategies")
struct GroupSettingsTests {
    @Test("the defaults are LogbookWire's GroupDefaults, which the server fills a 0 with")
    func defaultsAreTheWires() {
        let settings = Logbook.GroupSettings(name: "g", selector: .all)
        #expect(settings.strategy == .byStream)
        #expect(settings.maxInFlight == Int(GroupDefaults.maxInFlight))
        #expect(settings.ackTimeout == .milliseconds(GroupDefaults.ackTimeoutMilliseconds))
        #expect(settings.maxDeliveries == Int(GroupDefaults.maxDeliveries))
        #expect(settings.retryBackoff == .milliseconds(GroupDefaults.retryBackoffMilliseconds))
    }

    @Test("a 0 from the server reads as the default it stands for")
    func zeroIsTheDefault() throws {
        let wire = LogbookWire.GroupSettings(name: "g", selector: Selector(kind: .all(Empty())))
        #expect(try Logbook.GroupSettings(wire: wire) == Logbook.GroupSettings(name: "g", selector: .all))
    }

    @Test("each strategy has one spelling, which reads back, and one wire value", arguments: [
        (Logbook.GroupSettings.Strategy.byStream, "by-stream", LogbookWire.Strategy.byStream),
        (.roundRobin, "round-robin", .roundRobin),
        (.single, "single", .single),
    ])
    func strategies(_ strategy: Logbook.GroupSettings.Strategy, _ spelling: String, _ wire: LogbookWire.Strategy) {
        #expect(strategy.description == spelling)
        #expect(Logbook.GroupSettings.Strategy(spelling) == strategy)
        #expect(strategy.wire == wire)
        #expect(Logbook.GroupSettings.Strategy(wire: wire) == strategy)
    }

    @Test("the list of strategies is complete, the server's spelling reads too, other words are not strategies")
    func allStrategies() {
        #expect(Logbook.GroupSettings.Strategy.all == [.byStream, .roundRobin, .single])
        #expect(Logbook.GroupSettings.Strategy("by_stream") == .byStream)
        #expect(Logbook.GroupSettings.Strategy("round_robin") == .roundRobin)
        #expect(Logbook.GroupSettings.Strategy("By-Stream") == nil)
        #expect(Logbook.GroupSettings.Strategy("by") == nil)
    }
}
