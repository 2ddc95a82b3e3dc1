internal import GRDB

/// Where a query reads `(key, doc)` rows from: a view's table, or `v` defined by a
/// `WITH` clause (system views, caller rows).
struct ViewSource {
    /// `WITH … v(key, doc) AS (…)`, or empty.
    var with: String = ""
    /// The values of the placeholders in `with`.
    var arguments = [DatabaseValue]()
    var table: String
    /// A view's indexed paths: queries on them alone come in few shapes, worth keeping
    /// prepared (see `ViewQueryPlan.run`).
    var indexedPaths: Set<String> = []
}

/// A predicate literal, classified by SQLite's own JSON parser so that the query
/// compares exactly what SQLite extracts from the documents.
struct ViewLiteral {
    /// The type classes a comparison matches: a number equals a number whatever its
    /// JSON spelling (1 and 1.0), but never `true` (which SQLite extracts as 1).
    enum Kind: Hashable {
        case number, text, `true`, `false`, null

        /// The SQL testing that the JSON type `T` is of this class; nil for null, which
        /// is tested on the value (`E IS NULL`: a JSON null or a missing path).
        func typeTest(_ type: String) -> String? {
            switch self {
            case .number: "\(type) IN ('integer', 'real')"
            case .text: "\(type) = 'text'"
            case .true: "\(type) = 'true'"
            case .false: "\(type) = 'false'"
            case .null: nil
            }
        }
    }

    var kind: Kind
    /// What `json_extract(literal, '$')` gives: booleans are 1 and 0.
    var value: DatabaseValue

    /// Classifies `?1`: whether it is JSON, its JSON type, and the value extracted.
    static let classificationSQL = """
        SELECT json_valid(?1),
            CASE WHEN json_valid(?1) THEN json_type(?1) END,
            CASE WHEN json_valid(?1) THEN json_extract(?1, '$') END
        """

    /// Nil for text that is not JSON, or is an object or an array.
    static func classify(_ json: String, _ db: Database) throws -> ViewLiteral? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: classificationSQL), arguments: [json]) else { return nil }
        return ViewLiteral(valid: try row.decode(atIndex: 0), type: try row.decode(atIndex: 1), value: row[2])
    }

    /// The literal from the columns of `classificationSQL`; nil as `classify` says.
    init?(valid: Bool, type: String?, value: DatabaseValue) {
        guard valid, let type else { return nil }
        switch type {
        case "integer", "real": self.init(kind: .number, value: value)
        case "text": self.init(kind: .text, value: value)
        case "true": self.init(kind: .true, value: value)
        case "false": self.init(kind: .false, value: value)
        case "null": self.init(kind: .null, value: value)
        default: return nil
        }
    }

    init(kind: Kind, value: DatabaseValue) {
        self.kind = kind
        self.value = value
    }
}

/// A query checked for everything that needs no database, turned into one SELECT over a
/// `ViewSource`. Every view, system view and caller-made row set runs through here.
///
/// Order: by the value at `orderBy`, then by key (keys are unique, so the order is
/// total), ascending unless `descending`. Values order as SQLite orders what
/// `json_extract` returns: a missing path and JSON null first (SQL NULL), then numbers
/// by value with `false` and `true` among them as 0 and 1, then strings by their UTF-8
/// bytes, among which objects and arrays sort as their JSON text.
package struct ViewQueryPlan {
    package let query: ViewQuery
    package let cursor: ViewCursor?

    /// The character above every other: `p || char(0x10FFFF)` bounds the strings that
    /// start with `p`, so a prefix is an index range.
    private static let prefixEnd = "char(1114111)"

    /// The share of documents the planner is told a one-sided range keeps.
    private static let rangeLikelihood = "0.01"

    package init(_ query: ViewQuery) throws(StorageError) {
        guard (1...StorageLimits.queryRowsMax).contains(query.limit) else {
            throw .invalidArgument("a query's limit must be 1…\(StorageLimits.queryRowsMax), not \(query.limit)")
        }
        try Self.validateKeys(query.keys)
        guard query.predicates.count <= StorageLimits.queryPredicatesMax else {
            throw .invalidArgument(
                "a query may have at most \(StorageLimits.queryPredicatesMax) predicates, not \(query.predicates.count)")
        }
        for predicate in query.predicates {
            try Self.validate(predicate)
        }
        if let orderBy = query.orderBy { try ViewValidator.validatePath(orderBy) }
        self.query = query
        self.cursor = try query.cursor.map { bytes throws(StorageError) in try Self.decodeCursor(bytes, of: query) }
    }

    /// Whether the statement of this query on `source` is worth keeping prepared.
    /// Preparing costs a lookup by key about a sixth of its time, but a cache of prepared
    /// statements needs a bound: only queries whose paths are all indexed, without `in`
    /// (whose SQL grows with its values), are kept, so the kept shapes are bounded by the
    /// view definitions, not by what clients send.
    func keepsStatement(on source: ViewSource) -> Bool {
        query.predicates.allSatisfy { $0.op != .in && source.indexedPaths.contains($0.path) }
            && query.orderBy.map(source.indexedPaths.contains) ?? true
    }

    /// Runs the query on `source` and makes its page.
    func run(_ source: ViewSource, _ db: Database) throws -> ViewPage {
        let (sql, arguments) = try self.sql(source) { try ViewLiteral.classify($0, db) }
        let statement = keepsStatement(on: source) ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        let rows = try Row.fetchCursor(statement, arguments: StatementArguments(arguments))
        return try page {
            guard let row = try rows.next() else { return nil }
            return (try row.decode(atIndex: 0), try row.decode(atIndex: 1), row[2])
        }
    }

    /// The page made of the rows `next` gives, in the query's order, as the SELECT of
    /// `sql` returns them: key, document, order value.
    func page(_ next: () throws -> (key: String, json: String, value: DatabaseValue)?) throws -> ViewPage {
        var page = [ViewRow]()
        var lastValue = DatabaseValue.null
        while let row = try next() {
            guard page.count < query.limit else {
                return ViewPage(rows: page, nextCursor: try nextCursor(after: page[page.count - 1], value: lastValue))
            }
            page.append(ViewRow(key: row.key, json: row.json))
            lastValue = row.value
        }
        return ViewPage(rows: page, nextCursor: nil)
    }

    /// The SELECT and its arguments, in the order of their placeholders; `classify` is
    /// `ViewLiteral.classify` on the connection that runs it.
    func sql(
        _ source: ViewSource, classify: (String) throws -> ViewLiteral?
    ) throws -> (String, [DatabaseValue]) {
        var conditions = [String]()
        var arguments = source.arguments
        func add(_ condition: String, _ values: [DatabaseValue]) {
            conditions.append(condition)
            arguments += values
        }
        switch query.keys {
        case .all: break
        case .key(let key): add("key = ?", [key.databaseValue])
        case .prefix(let prefix): add("key >= ? AND key < ? || \(Self.prefixEnd)", [prefix.databaseValue, prefix.databaseValue])
        }
        for predicate in query.predicates {
            let literals = try predicate.values.map { try Self.literal($0, of: predicate, classify) }
            let (condition, values) = try Self.condition(predicate, literals)
            add(condition, values)
        }
        if let cursor {
            let (condition, values) = after(cursor)
            add(condition, values)
        }
        let direction = query.descending ? "DESC" : "ASC"
        let value = query.orderBy.map(ViewSQL.extract) ?? "NULL"
        let order = query.orderBy.map { "\(ViewSQL.extract($0)) \(direction), key \(direction)" } ?? "key \(direction)"
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append((query.limit + 1).databaseValue)
        let sql = "\(source.with) SELECT key, doc, \(value) FROM \(source.table) \(filter) ORDER BY \(order) LIMIT ?"
        return (sql, arguments)
    }

    // MARK: Checks

    private static func validateKeys(_ keys: ViewKeys) throws(StorageError) {
        switch keys {
        case .all: return
        case .key(let key), .prefix(let key):
            guard key.utf8.count <= StorageLimits.viewKeyBytesMax else {
                throw .invalidArgument("a query's key or key prefix must be at most \(StorageLimits.viewKeyBytesMax) bytes")
            }
        }
    }

    private static func validate(_ predicate: ViewPredicate) throws(StorageError) {
        try ViewValidator.validatePath(predicate.path)
        let counts = predicate.op == .in ? 1...StorageLimits.queryInValuesMax : 1...1
        guard counts.contains(predicate.values.count) else {
            throw .invalidArgument("""
                the predicate \(predicate.op) on \(predicate.path) takes \(counts.lowerBound == counts.upperBound ? "one value" : "1…\(counts.upperBound) values"), \
                not \(predicate.values.count)
                """)
        }
        for value in predicate.values where value.utf8.count > StorageLimits.queryLiteralBytesMax {
            throw .invalidArgument(
                "a value of the predicate on \(predicate.path) is \(value.utf8.count) bytes; at most \(StorageLimits.queryLiteralBytesMax) are allowed")
        }
    }

    private static func decodeCursor(_ bytes: [UInt8], of query: ViewQuery) throws(StorageError) -> ViewCursor {
        guard let cursor = ViewCursor(decoding: bytes), cursor.fingerprint == ViewCursor.fingerprint(of: query),
              (cursor.value == .none) == (query.orderBy == nil)
        else {
            throw .invalidArgument("the cursor belongs to another query; pass the same query the cursor came from, or none")
        }
        return cursor
    }

    private static func literal(
        _ json: String, of predicate: ViewPredicate, _ classify: (String) throws -> ViewLiteral?
    ) throws -> ViewLiteral {
        guard let literal = try classify(json) else {
            throw StorageError.invalidArgument(
                "the predicate on \(predicate.path) compares against \(json): compare against a number, string, true, false or null")
        }
        switch predicate.op {
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard literal.kind == .number || literal.kind == .text else {
                throw StorageError.invalidArgument(
                    "the predicate \(predicate.op) on \(predicate.path) compares against \(json): it orders numbers or strings only")
            }
        case .prefix:
            guard literal.kind == .text else {
                throw StorageError.invalidArgument(
                    "the predicate prefix on \(predicate.path) compares against \(json): it takes a string")
            }
        case .equal, .notEqual, .in:
            break
        }
        return literal
    }

    // MARK: SQL

    /// One predicate as SQL. `E` (the value) is what the indexes hold, so every
    /// condition constrains it directly; `T` (the JSON type) then keeps a value from
    /// matching a literal of another class (`true` and 1 both extract as 1).
    private static func condition(
        _ predicate: ViewPredicate, _ literals: [ViewLiteral]
    ) throws(StorageError) -> (String, [DatabaseValue]) {
        let value = ViewSQL.extract(predicate.path)
        let type = ViewSQL.type(predicate.path)
        guard let first = literals.first else { throw .invalidArgument("the predicate on \(predicate.path) has no value") }
        switch predicate.op {
        case .equal:
            return equal(first, value, type)
        case .notEqual:
            // A document without the path (or with another type) is "not equal".
            let (condition, values) = equal(first, value, type)
            return ("NOT coalesce(\(condition), 0)", values)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            // SQLite keeps no statistics on documents and guesses a one-sided range keeps
            // a quarter of the rows; with LIMIT it then prefers walking the key index and
            // filtering, which reads the whole view when few documents match. Called
            // selective, the range reads the path's index: a page costs what matches.
            let comparison = "likelihood(\(value) \(sqlOperator(predicate.op)) ?, \(rangeLikelihood))"
            return (typed(first.kind, type, comparison), [first.value])
        case .prefix:
            return (typed(.text, type, "\(value) >= ? AND \(value) < ? || \(prefixEnd)"), [first.value, first.value])
        case .in:
            return oneOf(literals, value, type)
        }
    }

    private static func equal(_ literal: ViewLiteral, _ value: String, _ type: String) -> (String, [DatabaseValue]) {
        guard literal.kind != .null else { return ("\(value) IS NULL", []) }
        return (typed(literal.kind, type, "\(value) = ?"), [literal.value])
    }

    /// The literals grouped by class, each class one `IN` list: so `in (true, 2)` does
    /// not match 1, as one list with one type test would.
    private static func oneOf(_ literals: [ViewLiteral], _ value: String, _ type: String) -> (String, [DatabaseValue]) {
        var alternatives = [String]()
        var values = [DatabaseValue]()
        for kind in [ViewLiteral.Kind.number, .text, .true, .false, .null] {
            let members = literals.filter { $0.kind == kind }
            guard let first = members.first else { continue }
            switch kind {
            case .null:
                alternatives.append("\(value) IS NULL")
            case .true, .false:
                alternatives.append(typed(kind, type, "\(value) = ?"))
                values.append(first.value)
            case .number, .text:
                let placeholders = Array(repeating: "?", count: members.count).joined(separator: ", ")
                alternatives.append(typed(kind, type, "\(value) IN (\(placeholders))"))
                values += members.map(\.value)
            }
        }
        return ("(" + alternatives.joined(separator: " OR ") + ")", values)
    }

    private static func typed(_ kind: ViewLiteral.Kind, _ type: String, _ comparison: String) -> String {
        guard let test = kind.typeTest(type) else { return "(\(comparison))" }
        return "(\(test) AND \(comparison))"
    }

    private static func sqlOperator(_ op: ViewPredicate.Operator) -> String {
        switch op {
        case .less: "<"
        case .lessOrEqual: "<="
        case .greater: ">"
        case .greaterOrEqual: ">="
        case .equal, .in, .prefix: "="
        case .notEqual: "<>"
        }
    }

    /// The rows strictly after the cursor's `(value, key)` in the query's order, where
    /// NULL (missing) values come first ascending and last descending.
    private func after(_ cursor: ViewCursor) -> (String, [DatabaseValue]) {
        let key = cursor.key.databaseValue
        let beyond = query.descending ? "<" : ">"
        guard let orderBy = query.orderBy else { return ("key \(beyond) ?", [key]) }
        let value = ViewSQL.extract(orderBy)
        guard let last = cursor.databaseValue else {
            return query.descending
                ? ("(\(value) IS NULL AND key < ?)", [key])
                : ("(\(value) IS NOT NULL OR key > ?)", [key])
        }
        let tail = query.descending ? " OR \(value) IS NULL" : ""
        return ("(\(value) \(beyond) ? OR (\(value) = ? AND key \(beyond) ?)\(tail))", [last, last, key])
    }

    private func nextCursor(after row: ViewRow, value: DatabaseValue) throws -> [UInt8] {
        var cursorValue = ViewCursor.Value.none
        if query.orderBy != nil {
            guard let decoded = ViewCursor.value(value) else {
                throw StorageError(code: .internalError, message: "a query's order value is a blob")
            }
            cursorValue = decoded
        }
        return ViewCursor(fingerprint: ViewCursor.fingerprint(of: query), value: cursorValue, key: row.key).encoded()
    }
}
