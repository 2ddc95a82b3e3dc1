internal import Foundation
internal import Logbook
internal import LogbookCommandLine
internal import Testing

@Suite("Groups and parked events as the command line prints them")
struct GroupJSONTests {
    private let event = RecordedEvent(
        stream: "p-0", revision: 2, position: 5, id: UUID(uuidString: "0190A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B")!,
        type: "Tested", data: Array(#"{"r":2}"#.utf8), contentType: "application/json", timeUnixMicros: 1_714_566_896_789_012
    )

    @Test("a group prints as one flat JSON object")
    func infoJSON() throws {
        let info = GroupInfo(
            settings: GroupSettings(
                name: "g", selector: .category("order"), start: .position(9),
                filter: ReadFilter(eventTypes: ["A"]), strategy: .roundRobin, ackTimeout: .milliseconds(1500)
            ),
            checkpoint: 8, lag: 4, consumers: 1, inFlight: 2, parked: 3
        )
        #expect(
            JSON.line { GroupJSON.append(info, to: &$0) }
                == #"{"name":"g","selector":{"category":"order"},"from":9,"filter":{"event_types":["A"],"stream_prefix":null},"strategy":"round-robin","max_in_flight":64,"ack_timeout_ms":1500,"max_deliveries":10,"retry_backoff_ms":200,"checkpoint":8,"lag":4,"consumers":1,"in_flight":2,"parked":3}"#
        )
        let all = GroupInfo(settings: GroupSettings(name: "h", selector: .all, start: .end), checkpoint: 0, lag: 0, consumers: 0, inFlight: 0, parked: 0)
        #expect(JSON.line { GroupJSON.append(all, to: &$0) }.hasPrefix(#"{"name":"h","selector":{"all":{}},"from":"end","filter":null,"strategy":"by-stream","#))
    }

    @Test("a parked event prints as the event's JSON plus reason, attempts and parked_at")
    func parkedJSON() throws {
        let parked = ParkedEvent(event: self.event, reason: "said \"no\"", attempts: 1, parkedAtUnixMicros: 0)
        let line = JSON.line { GroupJSON.append(parked, to: &$0) }
        #expect(line.hasPrefix(String(JSON.line { EventJSON.append(parked.event, to: &$0) }.dropLast())))
        #expect(line.hasSuffix(#","reason":"said \"no\"","attempts":1,"parked_at":"1970-01-01T00:00:00.000000Z"}"#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["position"] as? Int == 5)
        #expect(object["data"] as? [String: Int] == ["r": 2])
    }

    @Test("a parked event reads on one line, whatever its reason holds")
    func parkedLine() {
        let parked = ParkedEvent(event: self.event, reason: "bad\ninput", attempts: 3, parkedAtUnixMicros: 0)
        #expect(JSON.line { PlainText.append(parked, to: &$0) } == "#5 p-0@2 Tested attempts=3 bad input")
    }

    @Test("a group's settings and durations read as the command line prints them")
    func plain() {
        let info = GroupInfo(
            settings: GroupSettings(name: "g", selector: .stream("s"), start: .end, strategy: .single),
            checkpoint: 0, lag: 0, consumers: 0, inFlight: 0, parked: 0
        )
        #expect(PlainText.summary(info) == "g (stream s, single, from end)")
        #expect(PlainText.duration(.milliseconds(250)) == "250 ms")
        #expect(PlainText.duration(.seconds(30)) == "30 s")
        #expect(PlainText.duration(.milliseconds(1500)) == "1.5 s")
    }

    @Test("a strategy reads back from the one spelling it prints with", arguments: GroupSettings.Strategy.all)
    func strategySpelling(_ strategy: GroupSettings.Strategy) {
        #expect(GroupSettings.Strategy(strategy.description) == strategy)
        #expect(JSON.line { GroupJSON.append(GroupInfo(settings: GroupSettings(name: "g", selector: .all, strategy: strategy), checkpoint: 0, lag: 0, consumers: 0, inFlight: 0, parked: 0), to: &$0) }.contains(#""strategy":"\#(strategy)""#))
    }
}
