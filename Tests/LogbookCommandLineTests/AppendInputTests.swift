internal import Foundation
internal import Logbook
@testable internal import LogbookCommandLine
internal import Testing

@Suite("JSON Lines for logbook append")
struct AppendInputTests {
    private func event(_ line: String, _ defaults: AppendInput.Defaults = .init()) throws -> EventData {
        try AppendInput.event(line: Array(line.utf8), defaults: defaults)
    }

    @Test("an event object keeps its data byte for byte")
    func eventObject() throws {
        let event = try self.event(
            #"{"type":"OrderPlaced","data":{"total": 1.50, "items":[1,2]},"id":"0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b","metadata":{"user":"ann"},"correlation_id":"c-1","causation_id":null}"#
        )
        #expect(event.type == "OrderPlaced")
        #expect(String(decoding: event.data, as: UTF8.self) == #"{"total": 1.50, "items":[1,2]}"#)
        #expect(event.contentType == "application/json")
        #expect(event.id == UUID(uuidString: "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"))
        #expect(event.metadata == ["user": "ann"])
        #expect(event.correlationID == "c-1")
        #expect(event.causationID == nil)
    }

    @Test("an exported line gives its stream, and data_base64's exact bytes win over the compacted data")
    func exportedLine() throws {
        let exact = "{ \"total\" : 10,\n \"x\": [1, 2] }"
        let line = #"{"stream":"order-1","revision":0,"position":7,"id":"0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b","type":"Placed","time":"2026-12-07T19:36:53.723810Z","content_type":"application/json","data":{"total":10,"x":[1,2]},"metadata":{"k":"v"},"correlation_id":"c1","causation_id":null,"data_base64":"\#(Data(exact.utf8).base64EncodedString())"}"#
        let (stream, event) = try AppendInput.exported(line: Array(line.utf8))
        #expect(stream == "order-1")
        #expect(String(decoding: event.data, as: UTF8.self) == exact)
        #expect(event.id == UUID(uuidString: "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"))
        #expect(event.metadata == ["k": "v"] && event.correlationID == "c1")
        #expect(throws: AppendInput.LineError.self) { try AppendInput.exported(line: Array(#"{"type":"T","data":1}"#.utf8)) }
        #expect(throws: AppendInput.LineError.self) {
            try AppendInput.exported(line: Array(#"{"stream":"s","type":"T","data":1,"data_base64":"%%%"}"#.utf8))
        }
    }

    @Test("command-line defaults apply unless the line overrides them")
    func defaults() throws {
        let defaults = AppendInput.Defaults(metadata: ["source": "cli", "user": "bob"], correlationID: "c-0", causationID: "k-0")
        let event = try self.event(#"{"type":"A","data":1,"metadata":{"user":"ann"},"causation_id":"k-1"}"#, defaults)
        #expect(event.metadata == ["source": "cli", "user": "ann"])
        #expect(event.correlationID == "c-0")
        #expect(event.causationID == "k-1")
    }

    @Test("with --type, the whole line is the data")
    func typedLine() throws {
        let event = try self.event("  {\"total\": 3}\r", AppendInput.Defaults(type: "OrderPlaced"))
        #expect(event.type == "OrderPlaced")
        #expect(String(decoding: event.data, as: UTF8.self) == #"{"total": 3}"#)
        #expect(event.contentType == "application/json")
    }

    @Test("a non-JSON content type takes its data in base64, as read --json prints it")
    func base64Data() throws {
        let event = try self.event(#"{"type":"Blob","content_type":"application/octet-stream","data":"AAEC/w=="}"#)
        #expect(event.data == [0, 1, 2, 255])
        #expect(event.contentType == "application/octet-stream")
    }

    @Test("the output of read --json appends again (unknown keys are ignored)")
    func readOutputRoundTrip() throws {
        let recorded = RecordedEvent(
            stream: "order-1", revision: 4, position: 9, id: UUID(), type: "Shipped",
            data: Array(#"{"to":"Oslo"}"#.utf8), contentType: "application/json",
            metadata: ["k": "v"], correlationID: "c", causationID: nil, timeUnixMicros: 1
        )
        let event = try self.event(JSON.line { EventJSON.append(recorded, to: &$0) })
        #expect(event.type == "Shipped")
        #expect(event.data == recorded.data)
        #expect(event.id == recorded.id)
        #expect(event.metadata == ["k": "v"])
        #expect(event.correlationID == "c")
    }

    @Test("a missing data is null")
    func missingData() throws {
        #expect(try self.event(#"{"type":"Ping"}"#).data == Array("null".utf8))
    }

    @Test(
        "refuses lines that are not events",
        arguments: [
            (#"{"data":1}"#, "no \"type\""),
            (#"{"type":1,"data":1}"#, "\"type\" must be a string"),
            (#"{"type":"A","data":}"#, "not valid JSON"),
            (#"[1,2]"#, "not a JSON object"),
            (#"{"type":"A","id":"nope"}"#, "\"id\" is not a UUID"),
            (#"{"type":"A","metadata":{"n":1}}"#, "metadata value \"n\" must be a string"),
            (#"{"type":"A","content_type":"image/png","data":{}}"#, "base64"),
            (#"{"type":"A"} x"#, "not valid JSON"),
        ]
    )
    func refuses(_ line: String, _ expected: String) {
        #expect {
            try self.event(line)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test("with --type, a line that is not JSON is refused")
    func typedLineInvalid() {
        #expect(throws: AppendInput.LineError.self) {
            try self.event("{oops", AppendInput.Defaults(type: "A"))
        }
    }
}
