#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

extension RecordedEvent {
    /// The payload decoded from JSON into `type`: the typed way to read an event.
    ///
    /// ```swift
    /// for try await event in client.read(.category("order")) where event.type == "OrderPlaced" {
    ///     let order = try event.decode(OrderPlaced.self)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - type: What the payload holds.
    ///   - decoder: How to decode it; a `JSONDecoder` with its defaults unless given.
    /// - Throws: The decoder's error when the payload does not hold a `type`; when the
    ///   event's content type is not JSON as well, a ``LogbookError`` `.invalidArgument`
    ///   that says so, with the decoder's error as its cause.
    public func decode<T: Decodable>(_ type: T.Type, using decoder: JSONDecoder = JSONDecoder()) throws -> T {
        do {
            return try decoder.decode(type, from: Data(self.data))
        } catch where !self.isJSON {
            throw LogbookError(
                code: .invalidArgument,
                message: """
                    cannot decode \(T.self) from event \(self.id) (revision \(self.revision) of \(self.stream)): \
                    its content type is \(self.contentType), not JSON
                    """,
                cause: error
            )
        }
    }
}
