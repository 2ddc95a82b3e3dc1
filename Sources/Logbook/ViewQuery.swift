#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
internal import LogbookWire

/// What a query asks of a view or a system view (DESIGN §6): which keys, which
/// predicates, in which order, how many rows a page holds, and how fresh the answer must be.
///
/// ```swift
/// let result = try await client.append(to: "order-42", events: [placed])
/// let page = try await client.query(ViewQuery(
///     "order_summaries",
///     where: [.equal("$.customer", "c-7")],
///     orderBy: "$.total", descending: true,
///     consistentWith: result
/// ))
/// ```
public struct ViewQuery: Sendable, Hashable {
    /// Which keys a query looks at. A struct so that more ways can be added.
    public struct Keys: Sendable, Hashable {
        enum Kind: Sendable, Hashable {
            case all
            case key(String)
            case prefix(String)
        }

        let kind: Kind

        /// Every key.
        public static let all = Keys(kind: .all)
        /// One key: at most one row.
        public static func key(_ key: String) -> Keys { Keys(kind: .key(key)) }
        /// The keys starting with `prefix`, e.g. a stream-name prefix in `$streams`.
        public static func prefix(_ prefix: String) -> Keys { Keys(kind: .prefix(prefix)) }
    }

    /// Which log a query of `$streams` sees (time travel).
    public struct AsOf: Sendable, Hashable {
        enum Kind: Sendable, Hashable {
            case position(UInt64)
            case time(Date)
        }

        let kind: Kind

        /// The log as it was when this was its last position.
        public static func position(_ position: UInt64) -> AsOf { AsOf(kind: .position(position)) }
        /// The log as it was at this time: up to the last position committed at or before it.
        public static func time(_ time: Date) -> AsOf { AsOf(kind: .time(time)) }
    }

    /// How long a query with a ``minPosition`` waits for its view when no wait is given.
    public static let defaultWait: Duration = QueryDefaults.wait

    /// A view's name, or a system view: `$streams`, `$event_types`, `$groups`, `$stats`.
    public var view: String
    public var keys: Keys
    /// Every one must hold for a row to be returned.
    public var predicates: [QueryPredicate]
    /// A JSON path to order rows by (then by key); nil orders by key.
    public var orderBy: String?
    public var descending: Bool
    /// Rows per page: nil for the server's default (100); at most 10,000.
    public var limit: Int?
    /// Wait until the view's group has processed every event up to this position; the
    /// query fails with `.deadlineExceeded` if it has not within ``wait``.
    public var minPosition: UInt64?
    /// How long to wait for ``minPosition``; nil for ``defaultWait``.
    public var wait: Duration?
    /// `$streams` only: see the log as it was.
    public var asOf: AsOf?

    /// A query of `view`. Given `consistentWith`, it reads its own write: it waits until the
    /// view reflects every event of that append (up to ``wait``, by default ``defaultWait``),
    /// as ``consistent(with:)`` makes it.
    public init(
        _ view: String,
        keys: Keys = .all,
        where predicates: [QueryPredicate] = [],
        orderBy: String? = nil,
        descending: Bool = false,
        limit: Int? = nil,
        consistentWith append: AppendResult? = nil,
        minPosition: UInt64? = nil,
        wait: Duration? = nil,
        asOf: AsOf? = nil
    ) {
        self.view = view
        self.keys = keys
        self.predicates = predicates
        self.orderBy = orderBy
        self.descending = descending
        self.limit = limit
        self.minPosition = minPosition
        self.wait = wait
        self.asOf = asOf
        if let append { self.consistent(with: append) }
    }

    /// Makes the query wait until the view reflects every event of `append`.
    public mutating func consistent(with append: AppendResult) {
        if let last = append.positions.max() {
            self.minPosition = max(self.minPosition ?? 0, last)
        }
    }
}
