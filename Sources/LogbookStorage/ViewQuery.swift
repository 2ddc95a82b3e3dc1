/// One page of a query over a view or a system view.
package struct ViewQuery: Sendable, Hashable {
    /// A view's name, or a system view: `$streams`, `$event_types` (the store serves
    /// those; `$groups` and `$stats` come from the server as rows, see `query(_:rows:)`).
    package var view: String
    package var keys: ViewKeys
    package var predicates: [ViewPredicate]
    /// A JSON path to order by (then by key); nil orders by key.
    ///
    /// Values order as SQLite orders what `json_extract` returns: documents missing the
    /// path or holding null first, then numbers by value (`false` and `true` among them
    /// as 0 and 1), then strings by their UTF-8 bytes (objects and arrays among them as
    /// their JSON text). `descending` reverses all of it, the keys of ties included.
    package var orderBy: String?
    package var descending: Bool
    /// Rows in this page, 1…`StorageLimits.queryRowsMax`.
    package var limit: Int
    /// The `nextCursor` of the page before, for the page after it.
    package var cursor: [UInt8]?
    /// `$streams` only: the log as it was when this was its last position.
    package var asOfPosition: UInt64?

    package init(
        view: String, keys: ViewKeys = .all, predicates: [ViewPredicate] = [], orderBy: String? = nil,
        descending: Bool = false, limit: Int = StorageLimits.queryRowsDefault, cursor: [UInt8]? = nil,
        asOfPosition: UInt64? = nil
    ) {
        self.view = view
        self.keys = keys
        self.predicates = predicates
        self.orderBy = orderBy
        self.descending = descending
        self.limit = limit
        self.cursor = cursor
        self.asOfPosition = asOfPosition
    }
}
