internal import Foundation
internal import Logbook
internal import Testing

/// `EventData(type:encoding:)` and `RecordedEvent.decode(_:using:)` without a daemon.
@Suite("Typed events")
struct TypedEventTests {
    struct Placed: Codable, Equatable {
        var customer: String
        var totalAmount: Double
    }

    private static func recorded(_ event: EventData) -> RecordedEvent {
        RecordedEvent(
            stream: "order-1", revision: 0, position: 1, id: event.id, type: event.type, data: event.data,
            contentType: event.contentType, metadata: event.metadata, timeUnixMicros: 0
        )
    }

    @Test("an Encodable value becomes a JSON event and decodes back to itself")
    func roundTrip() throws {
        let value = Placed(customer: "ann", totalAmount: 42.5)
        let event = try EventData(type: "Placed", encoding: value, metadata: ["k": "v"], correlationID: "c-1")
        #expect(event.contentType == "application/json")
        #expect(event.metadata == ["k": "v"])
        #expect(event.correlationID == "c-1")
        let object = try JSONSerialization.jsonObject(with: Data(event.data)) as? [String: Any]
        #expect(object?["customer"] as? String == "ann")
        #expect(try Self.recorded(event).decode(Placed.self) == value)
    }

    @Test("the encoder and the decoder given are used")
    func strategies() throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let event = try EventData(type: "Placed", encoding: Placed(customer: "bob", totalAmount: 1), encoder: encoder)
        #expect(String(decoding: event.data, as: UTF8.self).contains("total_amount"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        #expect(try Self.recorded(event).decode(Placed.self, using: decoder) == Placed(customer: "bob", totalAmount: 1))
    }

    @Test("a value JSON cannot carry fails to encode with the encoder's error")
    func unencodable() {
        #expect(throws: EncodingError.self) {
            _ = try EventData(type: "Placed", encoding: Placed(customer: "x", totalAmount: .nan))
        }
    }

    @Test("a JSON event of another shape throws the decoder's error; an event that is not JSON says so")
    func decodeFailures() throws {
        let other = EventData(type: "Other", json: #"{"something":"else"}"#)
        #expect(throws: DecodingError.self) { try Self.recorded(other).decode(Placed.self) }

        let binary = EventData(type: "Blob", data: [0xFF, 0x00, 0x01])
        do {
            _ = try Self.recorded(binary).decode(Placed.self)
            Issue.record("decoding bytes that are not JSON must throw")
        } catch let error as LogbookError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("application/octet-stream"), "\(error)")
            #expect(error.cause is DecodingError)
        }
    }
}
