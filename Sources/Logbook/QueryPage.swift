#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// One document of a view and its key.
public struct QueryRow: Sendable, Hashable {
    public var key: String
    /// The document as JSON text.
    public var json: String

    public init(key: String, json: String) {
        self.key = key
        self.json = json
    }

    /// The document decoded into `type`.
    public func decode<T: Decodable>(_ type: T.Type, using decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: Data(self.json.utf8))
    }
}

/// Where the next page of a query starts; opaque, and valid only for the same query.
public struct QueryCursor: Sendable, Hashable {
    let bytes: [UInt8]
}

/// One page of a query's answer.
public struct QueryPage: Sendable, Hashable {
    public var rows: [QueryRow]
    /// The position the answer reflects: the view's group checkpoint (for a system view,
    /// the log's last position, or the as-of position).
    public var asOfPosition: UInt64
    /// Pass it back for the next page; nil when there is none.
    public var nextCursor: QueryCursor?

    public init(rows: [QueryRow], asOfPosition: UInt64, nextCursor: QueryCursor?) {
        self.rows = rows
        self.asOfPosition = asOfPosition
        self.nextCursor = nextCursor
    }

    /// Every document decoded into `type`, in order.
    public func decode<T: Decodable>(_ type: T.Type, using decoder: JSONDecoder = JSONDecoder()) throws -> [T] {
        try self.rows.map { try $0.decode(type, using: decoder) }
    }
}
