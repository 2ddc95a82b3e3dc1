internal import Foundation
internal import LogbookWire
internal import Testing

@testable internal import Logbook

@Suite("Query values, predicates and requests")
struct QueryTests {
    @Test("values are JSON literals, with strings escaped")
    func literals() throws {
        let values: [(QueryValue, String)] = [
            ("paid", #""paid""#),
            (.string(#"say "hi"\ "#), #""say \"hi\"\\ ""#),
            (.string("tab\there\nnl"), #""tab\there\nnl""#),
            (42, "42"),
            (-7, "-7"),
            (9.5, "9.5"),
            (.number(3.0), "3"),
            (.number(UInt64.max), "18446744073709551615"),
            (.number(Double.nan), "null"),
            (true, "true"),
            (false, "false"),
            (nil, "null"),
        ]
        for (value, json) in values {
            #expect(value.json == json)
        }
        #expect(try QueryValue(jsonLiteral: " 1.5e3 ").json == "1.5e3")
        #expect(try QueryValue(jsonLiteral: #""a b""#) == "a b")
        #expect(try QueryValue(jsonLiteral: "null") == nil)
        for bad in ["", "abc", "{}", "[1]", "1 2", #""open"#, "tru", "01"] {
            #expect(throws: LogbookError.self, "\(bad)") { try QueryValue(jsonLiteral: bad) }
        }
    }

    @Test(
        "PATH OP VALUE parses with JSON literals, bare words as strings, and arrays for in",
        arguments: [
            ("$.total >= 100", "$.total", ">=", ["100"]),
            ("$.total>=100", "$.total", ">=", ["100"]),
            ("$.status = paid", "$.status", "=", [#""paid""#]),
            ("$.status == paid", "$.status", "=", [#""paid""#]),
            (#"$.name = "Ann Lee""#, "$.name", "=", [#""Ann Lee""#]),
            ("$.name = Ann Lee", "$.name", "=", [#""Ann Lee""#]),
            ("$.code = 12abc", "$.code", "=", [#""12abc""#]),
            ("$.flag != true", "$.flag", "!=", ["true"]),
            ("$.gone = null", "$.gone", "=", ["null"]),
            ("  $.n < -1.5  ", "$.n", "<", ["-1.5"]),
            ("$.n <= 0", "$.n", "<=", ["0"]),
            ("$.n > 0", "$.n", ">", ["0"]),
            ("$.name prefix An", "$.name", "prefix", [#""An""#]),
            ("$.name PREFIX An", "$.name", "prefix", [#""An""#]),
            (#"$.status in ["open", "paid"]"#, "$.status", "in", [#""open""#, #""paid""#]),
            ("$.id in [1,2 , 3]", "$.id", "in", ["1", "2", "3"]),
            ("$.lines[0].sku = A-1", "$.lines[0].sku", "=", [#""A-1""#]),
        ]
    )
    func parsing(text: String, path: String, op: String, values: [String]) throws {
        let predicate = try QueryPredicate(parsing: text)
        #expect(predicate.path == path)
        #expect(predicate.op.description == op)
        #expect(predicate.values.map(\.json) == values)
    }

    @Test(
        "malformed conditions are INVALID_ARGUMENT",
        arguments: [
            "", "   ", "$.total", "$.total >=", "$.total ~ 3", "$.total like 3", "= 3", "$.x in 3", "$.x in []",
            "$.x in [1, [2]]", #"$.x in [{"a":1}]"#, "$.x in [1,", #"$.x = "open"#, "$.x = [1]", #"$.x = {"a":1}"#,
        ]
    )
    func malformed(text: String) {
        #expect {
            try QueryPredicate(parsing: text)
        } throws: { error in
            (error as? LogbookError)?.code == .invalidArgument
        }
    }

    @Test("the builder's predicates go on the wire with their operators and literals")
    func builderOnTheWire() throws {
        let query = ViewQuery(
            "orders",
            where: [
                .equal("$.a", "x"), .notEqual("$.b", 1), .less("$.c", 2.5), .lessOrEqual("$.d", true),
                .greater("$.e", nil), .greaterOrEqual("$.f", 0), .hasPrefix("$.g", "pre"), .isIn("$.h", [1, "two", nil]),
            ]
        )
        let request = try query.wire(cursor: nil)
        #expect(request.predicates.map(\.op) == [.eq, .ne, .lt, .le, .gt, .ge, .prefix, .in])
        #expect(request.predicates.map(\.path) == ["$.a", "$.b", "$.c", "$.d", "$.e", "$.f", "$.g", "$.h"])
        #expect(request.predicates.map(\.values) == [
            [#""x""#], ["1"], ["2.5"], ["true"], ["null"], ["0"], [#""pre""#], ["1", #""two""#, "null"],
        ])
    }

    @Test("a request carries keys, order, limit, cursor and nothing it was not asked for")
    func request() throws {
        let plain = try ViewQuery("v").wire(cursor: nil)
        #expect(plain == QueryRequest(view: "v"))

        let full = try ViewQuery("v", keys: .prefix("c-"), orderBy: "$.total", descending: true, limit: 10)
            .wire(cursor: QueryCursor(bytes: [1, 2, 3]))
        #expect(full.keys == .keyPrefix("c-"))
        #expect(full.orderBy == "$.total")
        #expect(full.descending)
        #expect(full.limit == 10)
        #expect(full.cursor == [1, 2, 3])
        #expect(full.minPosition == 0 && full.waitMs == 0)
        #expect(try ViewQuery("v", keys: .key("k")).wire(cursor: nil).keys == .key("k"))

        for limit in [0, -1, 10_001] {
            #expect(throws: LogbookError.self) { try ViewQuery("v", limit: limit).wire(cursor: nil) }
        }
        #expect(throws: LogbookError.self) { try ViewQuery("v", where: [QueryPredicate("$.a", .equal, [])]).wire(cursor: nil) }
        #expect(throws: LogbookError.self) { try ViewQuery("v", where: [QueryPredicate("$.a", .less, [1, 2])]).wire(cursor: nil) }
        #expect(throws: LogbookError.self) { try ViewQuery("v", where: [.isIn("$.a", [])]).wire(cursor: nil) }
    }

    @Test("consistentWith waits for the append's last position, by default 5 s")
    func readYourWrites() throws {
        let append = AppendResult(stream: "s", firstRevision: 0, lastRevision: 2, positions: [7, 8, 9], commitTime: nil)
        let consistent = try ViewQuery("v", consistentWith: append).wire(cursor: nil)
        #expect(consistent.minPosition == 9)
        #expect(consistent.waitMs == 5000)
        let waited = try ViewQuery("v", consistentWith: append, wait: .milliseconds(250)).wire(cursor: nil)
        #expect(waited.waitMs == 250)
        let explicit = try ViewQuery("v", minPosition: 3, wait: .microseconds(1500)).wire(cursor: nil)
        #expect(explicit.minPosition == 3)
        #expect(explicit.waitMs == 2, "rounded up, so a short wait is never no wait")
        var merged = ViewQuery("v", minPosition: 20)
        merged.consistent(with: append)
        #expect(merged.minPosition == 20, "never lowers a position already asked for")
    }

    @Test("as-of position and time for $streams")
    func timeTravel() throws {
        #expect(try ViewQuery("$streams", asOf: .position(5)).wire(cursor: nil).asOfPosition == 5)
        let time = Date(timeIntervalSince1970: 1_700_000_000.25)
        let request = try ViewQuery("$streams", asOf: .time(time)).wire(cursor: nil)
        #expect(request.asOfTimeUnixMicros == 1_700_000_000_250_000)
        #expect(request.asOfPosition == 0)
        #expect(throws: LogbookError.self) { try ViewQuery("$streams", asOf: .time(Date(timeIntervalSince1970: -5))).wire(cursor: nil) }
    }

    @Test("a reply becomes a page; an empty cursor means the last page")
    func page() throws {
        struct Doc: Decodable, Equatable { var n: Int }
        let last = QueryPage(wire: QueryReply(rows: [Row(key: "a", json: #"{"n":1}"#)], asOfPosition: 4, nextCursor: []))
        #expect(last.rows == [QueryRow(key: "a", json: #"{"n":1}"#)])
        #expect(last.asOfPosition == 4)
        #expect(last.nextCursor == nil)
        #expect(try last.decode(Doc.self) == [Doc(n: 1)])
        let more = QueryPage(wire: QueryReply(rows: [], asOfPosition: 4, nextCursor: [9]))
        #expect(more.nextCursor == QueryCursor(bytes: [9]))
    }

    @Test("view writes map to the wire; a NUL is refused before it is sent")
    func viewWrites() throws {
        struct Summary: Encodable { var orders: Int }
        #expect(ViewWrite.put("v", key: "k", json: "{}").wire == LogbookWire.ViewWrite(view: "v", key: "k", op: .put("{}")))
        #expect(try ViewWrite.put("v", key: "k", Summary(orders: 2)).wire.op == .put(#"{"orders":2}"#))
        #expect(try ViewWrite.merge("v", key: "k", ["a": 1]).wire.op == .merge(#"{"a":1}"#))
        #expect(ViewWrite.merge("v", key: "k", patch: #"{"a":null}"#).json == #"{"a":null}"#)
        #expect(ViewWrite.remove("v", key: "k").wire.op == .remove(true))
        #expect(ViewWrite.remove("v", key: "k").json == nil)
        #expect(throws: LogbookError.self) { try ViewWrite.put("v", key: "a\0b", json: "{}").checkEncodable() }
        try ViewWrite.put("v", key: "ab", json: "{}").checkEncodable()
    }

    @Test("acks leave in as few frames as their writes allow, each whole with its writes")
    func ackFrames() {
        typealias Pending = GroupConsumer.PendingAck
        let small = LogbookWire.ViewWrite(view: "v", key: "k", op: .put("{}"))
        #expect(GroupConsumer.frames([]) == [])
        let three = GroupConsumer.frames([Pending(deliveryID: 1, writes: []), Pending(deliveryID: 2, writes: [small]), Pending(deliveryID: 3, writes: [small, small])])
        #expect(three == [Ack(deliveryIDs: [1, 2, 3], viewWrites: [small, small, small])])

        let big = LogbookWire.ViewWrite(view: "v", key: "k", op: .put(String(repeating: "x", count: ClientLimits.ackFrameWriteBytesMax / 2)))
        let frames = GroupConsumer.frames((1...5).map { Pending(deliveryID: UInt64($0), writes: [big]) })
        #expect(frames.map(\.deliveryIDs) == [[1], [2], [3], [4], [5]])
        #expect(frames.allSatisfy { $0.viewWrites == [big] })
        let huge = LogbookWire.ViewWrite(view: "v", key: "k", op: .put(String(repeating: "x", count: ClientLimits.ackFrameWriteBytesMax * 2)))
        #expect(GroupConsumer.frames([Pending(deliveryID: 1, writes: [huge]), Pending(deliveryID: 2, writes: [])]).map(\.deliveryIDs) == [[1], [2]])
    }
}
