internal import Foundation
@testable internal import LogbookStorage
internal import Testing

/// `$streams` and `$event_types` against references computed from the appended events,
/// now and as of earlier positions; and positions by commit time.
@Suite struct SystemViewTests {
    /// 40 commits over 6 streams and 4 event types, some with two streams at once.
    static func populate(_ store: EventStore) async throws {
        for index in 0..<40 {
            var writes = [Make.write("order-\(index % 5)", .any, Make.events(1 + index % 3, type: "T\(index % 4)"))]
            if index % 7 == 0 { writes.append(Make.write("audit", .any, Make.events(2, type: "Audited"))) }
            _ = try await store.append(writes)
        }
    }

    static func rfc3339(_ micros: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let seconds = micros / 1_000_000
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        return formatter.string(from: date) + "." + String(format: "%06d", Int(micros % 1_000_000)) + "Z"
    }

    static func expectedStreams(_ events: [RecordedEvent]) -> [ViewRow] {
        Dictionary(grouping: events, by: \.stream).sorted { $0.key < $1.key }.map { stream, events in
            let (first, last) = (events[0], events[events.count - 1])
            return ViewRow(key: stream, json: """
                {"name":"\(stream)","last_revision":\(last.revision),"event_count":\(events.count),\
                "first_position":\(first.position),"last_position":\(last.position),\
                "first_time":"\(rfc3339(first.timeMicros))","last_time":"\(rfc3339(last.timeMicros))"}
                """)
        }
    }

    static func expectedEventTypes(_ events: [RecordedEvent]) -> [ViewRow] {
        Dictionary(grouping: events, by: \.type).sorted { $0.key < $1.key }.map { type, events in
            ViewRow(key: type, json: """
                {"name":"\(type)","event_count":\(events.count),\
                "first_position":\(events[0].position),"last_position":\(events[events.count - 1].position)}
                """)
        }
    }

    static func all(_ store: EventStore, _ view: String, asOf: UInt64? = nil) throws -> [ViewRow] {
        try ViewQueryTests.all(store, ViewQuery(view: view, limit: 4, asOfPosition: asOf))
    }

    @Test(arguments: [true, false])
    func systemViewsMatchTheLog(indexed: Bool) async throws {
        try await StoreFixture.withStore(indexing: indexed ? .standard : .never) { store in
            #expect(try Self.all(store, "$streams").isEmpty)
            #expect(try Self.all(store, "$event_types").isEmpty)
            try await Self.populate(store)
            let events = try Make.readAll(store)
            #expect(try Self.all(store, "$streams") == Self.expectedStreams(events))
            #expect(try Self.all(store, "$event_types") == Self.expectedEventTypes(events))
            for asOf in [0, 1, 2, 17, 50, UInt64(events.count), UInt64(events.count) + 10] {
                let visible = events.filter { $0.position <= asOf }
                #expect(try Self.all(store, "$streams", asOf: asOf) == Self.expectedStreams(visible), "as of \(asOf)")
                #expect(try Self.all(store, "$event_types", asOf: asOf) == Self.expectedEventTypes(visible), "as of \(asOf)")
            }
        }
    }

    @Test func systemViewsTakePredicatesAndOrder() async throws {
        try await StoreFixture.withStore { store in
            try await Self.populate(store)
            let events = try Make.readAll(store)
            let busiest = try store.query(ViewQuery(
                view: "$streams", keys: .prefix("order-"),
                predicates: [ViewPredicate(path: "$.event_count", op: .greaterOrEqual, values: ["16"])],
                orderBy: "$.event_count", descending: true, limit: 2))
            let counts = Dictionary(grouping: events.filter { $0.stream.hasPrefix("order-") }, by: \.stream)
                .mapValues(\.count).filter { $0.value >= 16 }
                .sorted { ($0.value, $0.key) > ($1.value, $1.key) }
            #expect(busiest.rows.map(\.key) == counts.prefix(2).map(\.key))
            #expect((busiest.nextCursor != nil) == (counts.count > 2))

            let first = try #require(events.first)
            let byTime = try store.query(ViewQuery(
                view: "$streams",
                predicates: [ViewPredicate(path: "$.first_time", op: .equal, values: ["\"\(Self.rfc3339(first.timeMicros))\""])]))
            #expect(byTime.rows.map(\.key).contains(first.stream))
        }
    }

    /// At the head, a stream's first and last events come from the (stream, revision)
    /// index, never from a scan of `events`.
    @Test func streamsReadTheStreamRevisionIndex() async throws {
        try await StoreFixture.withStore { store in
            try await Self.populate(store)
            let plan = try store.queryPlan(ViewQuery(view: "$streams")).joined(separator: "\n")
            #expect(plan.contains("events_stream_revision"), "\(plan)")
            #expect(!plan.contains("SCAN e\n") && !plan.hasSuffix("SCAN e"), "\(plan)")
            #expect(!plan.contains("SCAN events"), "\(plan)")
        }
    }

    @Test func positionAtOrBeforeTime() async throws {
        try await StoreFixture.withStore { store in
            #expect(try store.position(atOrBeforeTime: .max) == 0)
            for _ in 0..<30 {
                _ = try await store.append([Make.write("s", .any, Make.events(2))])
                try await Task.sleep(for: .microseconds(50))
            }
            let events = try Make.readAll(store)
            func expected(_ micros: Int64) -> UInt64 {
                events.last { $0.timeMicros <= micros }?.position ?? 0
            }
            var times: [Int64] = [0, -1, .min, .max, events[0].timeMicros - 1]
            for event in events { times += [event.timeMicros, event.timeMicros - 1, event.timeMicros + 1] }
            for time in times {
                #expect(try store.position(atOrBeforeTime: time) == expected(time), "\(time)")
            }
            #expect(try store.position(atOrBeforeTime: .max) == UInt64(events.count))
        }
    }
}
