#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A change to one document of a view, carried by the ack of the event it comes from.
///
/// The daemon applies an ack's writes in the same transaction that records the ack, so a
/// view reflects each event exactly once, even when the event is delivered again. Only
/// the group a view belongs to may write it.
///
/// ```swift
/// let worker = ProjectionWorker.writingViews(client: client, group: "orders") { event in
///     let order = try event.decode(OrderPlaced.self)
///     return [try .merge("order_summaries", key: order.customer, ["customer": order.customer])]
/// }
/// ```
public struct ViewWrite: Sendable, Hashable {
    enum Operation: Sendable, Hashable {
        case put(String)
        case merge(String)
        case remove
    }

    /// The view written.
    public var view: String
    /// The document's key.
    public var key: String
    let operation: Operation

    init(view: String, key: String, operation: Operation) {
        self.view = view
        self.key = key
        self.operation = operation
    }

    /// Replaces the key's document with `json` (a JSON object as text).
    public static func put(_ view: String, key: String, json: String) -> ViewWrite {
        ViewWrite(view: view, key: key, operation: .put(json))
    }

    /// Replaces the key's document with `document`, encoded as JSON.
    public static func put(
        _ view: String,
        key: String,
        _ document: some Encodable,
        encoder: JSONEncoder = JSONEncoder()
    ) throws -> ViewWrite {
        ViewWrite(view: view, key: key, operation: .put(try Self.json(document, encoder)))
    }

    /// Applies a JSON merge patch (RFC 7396, as text) to the key's document, or to `{}`
    /// when the key has none: members of the patch replace the document's, `null` members
    /// remove them, nested objects merge.
    public static func merge(_ view: String, key: String, patch json: String) -> ViewWrite {
        ViewWrite(view: view, key: key, operation: .merge(json))
    }

    /// Applies `patch`, encoded as JSON, as a merge patch (RFC 7396) to the key's document.
    public static func merge(
        _ view: String,
        key: String,
        _ patch: some Encodable,
        encoder: JSONEncoder = JSONEncoder()
    ) throws -> ViewWrite {
        ViewWrite(view: view, key: key, operation: .merge(try Self.json(patch, encoder)))
    }

    /// Removes the key's document; nothing when it has none.
    public static func remove(_ view: String, key: String) -> ViewWrite {
        ViewWrite(view: view, key: key, operation: .remove)
    }

    /// The document or patch, as JSON text; nil for a removal.
    public var json: String? {
        switch self.operation {
        case .put(let json), .merge(let json): json
        case .remove: nil
        }
    }

    private static func json(_ value: some Encodable, _ encoder: JSONEncoder) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Fails for a write protobuf-c cannot carry (a NUL character), which would otherwise
    /// break the consumer's connection.
    func checkEncodable() throws(LogbookError) {
        for text in [self.view, self.key, self.json ?? ""] where text.utf8.contains(0) {
            throw LogbookError(
                code: .invalidArgument,
                message: "view write not sent: the view name, key or document of \(self.view)/\(self.key) holds a NUL character"
            )
        }
    }
}
