#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

extension EventData {
    /// An event whose payload is `value` encoded as JSON, with content type
    /// `application/json`: the typed way to append.
    ///
    /// ```swift
    /// struct OrderPlaced: Codable { var customer: String; var total: Double }
    /// try await client.append(to: "order-42", events: [
    ///     try EventData(type: "OrderPlaced", encoding: OrderPlaced(customer: "ann", total: 42.5)),
    /// ])
    /// ```
    ///
    /// Read it back with ``RecordedEvent/decode(_:using:)``.
    ///
    /// - Parameters:
    ///   - encoding: The payload.
    ///   - encoder: How to encode it; a `JSONEncoder` with its defaults unless given (set
    ///     its key or date strategy to match what readers of the event expect).
    /// - Throws: The encoder's error when `value` cannot be encoded (a non-finite number,
    ///   say).
    public init(
        id: UUID = EventData.makeID(),
        type: String,
        encoding value: some Encodable,
        encoder: JSONEncoder = JSONEncoder(),
        metadata: [String: String] = [:],
        correlationID: String? = nil,
        causationID: String? = nil
    ) throws {
        self.init(
            id: id,
            type: type,
            data: try encoder.encode(value),
            contentType: "application/json",
            metadata: metadata,
            correlationID: correlationID,
            causationID: causationID
        )
    }
}
