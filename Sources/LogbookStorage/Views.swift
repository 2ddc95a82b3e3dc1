/// A read model the daemon hosts (DESIGN.md §6): JSON documents by key, written only by
/// the acks of one persistent group, with SQLite indexes on the JSON paths it names.
package struct ViewDefinition: Sendable, Hashable {
    package var name: String
    /// The group whose acks write this view; no other group may.
    package var group: String
    /// JSON paths such as `$.customer.id` or `$.lines[0].sku`, each backed by an index.
    package var indexedPaths: [String]

    package init(name: String, group: String, indexedPaths: [String] = []) {
        self.name = name
        self.group = group
        self.indexedPaths = indexedPaths
    }
}

/// One change to one document of a view, carried by an ack.
package struct ViewWrite: Sendable, Hashable {
    package enum Operation: Sendable, Hashable {
        /// A JSON document replacing the key's.
        case put(String)
        /// A JSON merge patch (RFC 7396) applied to the key's document (to `{}` when the
        /// key has none).
        case merge(String)
        /// Removes the key's document; nothing when there is none.
        case remove
    }

    package var view: String
    package var key: String
    package var operation: Operation

    package init(view: String, key: String, operation: Operation) {
        self.view = view
        self.key = key
        self.operation = operation
    }
}

/// A condition on the value at a JSON path of each document.
package struct ViewPredicate: Sendable, Hashable {
    package enum Operator: Sendable, Hashable {
        case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual, prefix, `in`
    }

    package var path: String
    package var op: Operator
    /// JSON literals (number, string, true, false, null): one for every operator but
    /// `in`, which takes one or more.
    ///
    /// A value matches a literal of its own type class only: numbers (1 equals 1.0),
    /// strings, true, false. `= null` matches null or a missing path, and `!=` matches
    /// whatever `=` does not, missing paths included. `<`, `<=`, `>`, `>=` take a number
    /// or a string, `prefix` a string.
    package var values: [String]

    package init(path: String, op: Operator, values: [String]) {
        self.path = path
        self.op = op
        self.values = values
    }
}

/// Which keys a query looks at.
package enum ViewKeys: Sendable, Hashable {
    case all
    case key(String)
    case prefix(String)
}

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

/// A document and its key.
package struct ViewRow: Sendable, Hashable {
    package var key: String
    /// The document as minified JSON text.
    package var json: String

    package init(key: String, json: String) {
        self.key = key
        self.json = json
    }
}

/// What one query returns: its rows, and a cursor when more may follow.
package struct ViewPage: Sendable, Hashable {
    package var rows: [ViewRow]
    package var nextCursor: [UInt8]?

    package init(rows: [ViewRow], nextCursor: [UInt8]?) {
        self.rows = rows
        self.nextCursor = nextCursor
    }
}
