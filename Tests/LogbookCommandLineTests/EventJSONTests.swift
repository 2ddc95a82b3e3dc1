internal import Foundation
internal import Logbook
internal import LogbookCommandLine
internal import Testing

@Suite("Event output as JSON")
struct EventJSONTests {
    private let id = UUID(uuidString: "0190A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B")!

    private func event(data: [UInt8], contentType: String, metadata: [String: String] = [:]) -> RecordedEvent {
        RecordedEvent(
            stream: "order-42", revision: 3, position: 17, id: self.id, type: "OrderPlaced",
            data: data, contentType: contentType, metadata: metadata,
            correlationID: "corr-1", causationID: nil, timeUnixMicros: 1_714_566_896_789_012
        )
    }

    @Test("a JSON event prints its data as a JSON value, compacted onto one line")
    func jsonData() {
        let line = EventJSON.line(
            self.event(data: Array("{\n  \"total\": 42.50\n}".utf8), contentType: "application/json", metadata: ["z": "1", "a": "\"q\""])
        )
        #expect(
            line
                == #"{"stream":"order-42","revision":3,"position":17,"id":"0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b","type":"OrderPlaced","time":"2024-05-01T12:34:56.789012Z","content_type":"application/json","data":{"total":42.50},"metadata":{"a":"\"q\"","z":"1"},"correlation_id":"corr-1","causation_id":null}"#
        )
    }

    @Test(
        "+json content types count as JSON",
        arguments: ["application/vnd.order+json", "application/json; charset=utf-8", "Application/JSON"]
    )
    func jsonSuffix(_ contentType: String) {
        #expect(EventJSON.line(self.event(data: Array("[1]".utf8), contentType: contentType)).contains(#""data":[1]"#))
    }

    @Test("other content types, and JSON that does not parse, print base64")
    func base64Data() {
        #expect(
            EventJSON.line(self.event(data: [0, 1, 2, 255], contentType: "application/octet-stream"))
                .contains(#""data":"AAEC/w==""#)
        )
        #expect(
            EventJSON.line(self.event(data: Array("{oops".utf8), contentType: "application/json"))
                .contains(#""data":"e29vcHM=""#)
        )
        #expect(EventJSON.line(self.event(data: Array("plain".utf8), contentType: "text/plain")).contains(#""data":"cGxhaW4=""#))
    }

    @Test("an append result prints its revisions and positions")
    func appendResult() {
        let result = AppendResult(stream: "s", firstRevision: 2, lastRevision: 4, positions: [10, 11, 12], commitTime: nil)
        #expect(EventJSON.line(result) == #"{"stream":"s","first_revision":2,"last_revision":4,"positions":[10,11,12]}"#)
    }

    @Test(
        "times are RFC 3339 in UTC with microseconds",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00.000000Z"),
            (951_782_400_123_456, "2000-02-29T00:00:00.123456Z"),
            (1_714_566_896_789_012, "2024-05-01T12:34:56.789012Z"),
            (-1, "1969-12-31T23:59:59.999999Z"),
            (253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
        ]
    )
    func rfc3339(_ micros: Int64, _ expected: String) {
        #expect(RFC3339.string(unixMicros: micros) == expected)
    }
}

extension EventJSON {
    /// One event as a JSON line (without the newline).
    fileprivate static func line(_ event: RecordedEvent) -> String {
        JSON.line { Self.append(event, to: &$0) }
    }

    /// One append result as a JSON line (without the newline).
    fileprivate static func line(_ result: AppendResult) -> String {
        JSON.line { Self.append(result, to: &$0) }
    }
}
