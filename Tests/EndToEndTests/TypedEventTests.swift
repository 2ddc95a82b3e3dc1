internal import Foundation
internal import Logbook
internal import Testing

/// Typed events through the real daemon: `EventData(type:encoding:)` in, `decode(_:)` out,
/// on a read, a subscription and a group delivery.
@Suite("Typed events", .serialized)
final class TypedEventTests {
    struct OrderPlaced: Codable, Equatable {
        var customer: String
        var totalAmount: Double
        var lines: [String]
        var placedAt: Date
    }

    let daemon: Daemon

    init() throws {
        self.daemon = try Daemon()
        try self.daemon.start()
    }

    private let order = OrderPlaced(
        customer: "ann", totalAmount: 42.5, lines: ["A", "B"], placedAt: Date(timeIntervalSince1970: 1_700_000_000)
    )

    @Test func aTypedEventRoundTripsThroughReadsSubscriptionsAndGroups() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let event = try EventData(type: "OrderPlaced", encoding: self.order, metadata: ["source": "test"])
        #expect(event.contentType == "application/json")
        try await client.createGroup(GroupSettings(name: "typed", selector: .category("order")))
        _ = try await client.append(to: "order-1", expected: .noStream, events: [event])

        var read: [RecordedEvent] = []
        for try await recorded in client.read(.stream("order-1")) {
            read.append(recorded)
        }
        let recorded = try #require(read.first)
        #expect(recorded.id == event.id)
        #expect(recorded.contentType == "application/json")
        #expect(recorded.metadata == ["source": "test"])
        #expect(try recorded.decode(OrderPlaced.self) == self.order)

        for try await subscribed in client.subscribe(.stream("order-1")).events {
            #expect(try subscribed.decode(OrderPlaced.self) == self.order)
            break
        }
        for try await delivery in client.consume(group: "typed") {
            #expect(try delivery.event.decode(OrderPlaced.self) == self.order)
            await delivery.ack()
            break
        }
        await client.close()
    }

    @Test func theEncoderAndDecoderAreTheCallers() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        _ = try await client.append(to: "order-2", events: [try EventData(type: "OrderPlaced", encoding: self.order, encoder: encoder)])

        var read: [RecordedEvent] = []
        for try await recorded in client.read(.stream("order-2")) {
            read.append(recorded)
        }
        let recorded = try #require(read.first)
        let text = String(decoding: recorded.data, as: UTF8.self)
        #expect(text.contains(#""total_amount":42.5"#), "\(text)")
        #expect(text.contains("2023-11-14T22:13:20Z"), "\(text)")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        #expect(try recorded.decode(OrderPlaced.self, using: decoder) == self.order)
        // With the default decoder the keys do not match: the decoder's own error.
        #expect(throws: DecodingError.self) { try recorded.decode(OrderPlaced.self) }

        // The CLI prints the typed event's data as JSON, as it does for any JSON event.
        let cli = try CLI(socketPath: self.daemon.socketPath).run(["read", "order-2", "--json"])
        #expect(cli.status == 0, "\(cli.stderr)")
        let data = try #require(try cli.json().first?["data"] as? [String: Any])
        #expect(data["customer"] as? String == "ann")
        await client.close()
    }
}
