internal import Foundation
internal import LogbookStorage
internal import PostgresNIO

/// A query of a view or a system view as one PostgreSQL SELECT, with the meaning the
/// embedded stores give it (`ViewQuery`, `ViewPredicate`): values compare and order by
/// `logbook_sort_key` (`PostgresViewSchema`), which ranks them as SQLite does, and a
/// predicate matches a literal of its own type class only.
///
/// Every predicate and order constrains `logbook_sort_key(doc #> '{path}')`, the
/// expression each indexed path's index holds, so PostgreSQL reads the index; the type
/// test (`jsonb_typeof`) then keeps `true` from matching 1, as it keeps it in SQLite.
struct PostgresViewQuery {
    /// Where the rows come from: a view's table, or `v` defined by a `WITH` clause.
    struct Source {
        var with = ""
        var table: String
    }

    private let plan: ViewQueryPlan
    private(set) var bindings = PostgresBindings()

    init(_ plan: ViewQueryPlan) {
        self.plan = plan
    }

    /// Binds `value` and returns its placeholder.
    mutating func bind(_ value: String) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    mutating func bind(_ value: [String]) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    mutating func bind(_ value: Int64) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    /// The SELECT of `key, doc::text` (and, when ordered by a path, the order value's
    /// rank, number and text), one row more than the limit.
    mutating func sql(from source: Source) throws(StorageError) -> String {
        let query = plan.query
        var conditions = [String]()
        switch query.keys {
        case .all: break
        case .key(let key): conditions.append("key = \(bind(key))")
        case .prefix(let prefix):
            let start = bind(prefix)
            conditions.append(#"key >= \#(start) AND key < (\#(start) || chr(1114111)) COLLATE "C""#)
        }
        for predicate in query.predicates {
            conditions.append(try condition(predicate))
        }
        if let cursor = plan.cursor { conditions.append(after(cursor)) }
        let direction = query.descending ? "DESC" : "ASC"
        var columns = "key, doc::text"
        var order = "key \(direction)"
        if let path = query.orderBy {
            let value = Self.sortKey(path)
            columns += ", (\(value)).rank, (\(value)).num::text, (\(value)).txt"
            order = "\(value) \(direction), key \(direction)"
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = bind(Int64(query.limit + 1))
        return "\(source.with) SELECT \(columns) FROM \(source.table) \(filter) ORDER BY \(order) LIMIT \(limit)"
    }

    /// The page made of the rows `next` gives, in order, with a cursor when there are more.
    func page(_ next: () async throws -> (key: String, json: String, value: ViewCursor.Value)?) async throws -> ViewPage {
        var rows = [ViewRow]()
        var last = ViewCursor.Value.none
        while let row = try await next() {
            guard rows.count < plan.query.limit else {
                let cursor = ViewCursor(
                    fingerprint: ViewCursor.fingerprint(of: plan.query), value: last, key: rows[rows.count - 1].key)
                return ViewPage(rows: rows, nextCursor: cursor.encoded())
            }
            rows.append(ViewRow(key: row.key, json: JSONText.minified(row.json)))
            last = row.value
        }
        return ViewPage(rows: rows, nextCursor: nil)
    }

    /// The cursor value of a row's order columns.
    func orderValue(rank: Int16?, number: String?, text: String?) -> ViewCursor.Value {
        guard plan.query.orderBy != nil else { return .none }
        switch rank {
        case 1: return .decimal(number ?? "0")
        case 2: return .text(text ?? "")
        default: return .null
        }
    }

    // MARK: Paths

    /// `logbook_sort_key(doc #> '{a,b,0}')` for `$.a.b[0]`: exactly the indexes' expression.
    static func sortKey(_ path: String) -> String {
        "logbook_sort_key(doc #> '\(pathArray(path))')"
    }

    private static func type(_ path: String) -> String {
        "jsonb_typeof(doc #> '\(pathArray(path))')"
    }

    /// A path that passed `ViewValidator.validatePath` as PostgreSQL's text array of its
    /// steps: names and indexes hold letters, digits and `_` only, so the literal needs
    /// no quoting.
    static func pathArray(_ path: String) -> String {
        var steps = [String]()
        var step = ""
        for character in path.dropFirst() {
            switch character {
            case ".", "[":
                if !step.isEmpty { steps.append(step) }
                step = ""
            case "]":
                break
            default:
                step.append(character)
            }
        }
        if !step.isEmpty { steps.append(step) }
        return "{" + steps.joined(separator: ",") + "}"
    }

    // MARK: Predicates

    private mutating func condition(_ predicate: ViewPredicate) throws(StorageError) -> String {
        let literals = try predicate.values.map { json throws(StorageError) in try Self.literal(json, of: predicate) }
        let value = Self.sortKey(predicate.path)
        let type = Self.type(predicate.path)
        guard let first = literals.first else { throw .invalidArgument("the predicate on \(predicate.path) has no value") }
        switch predicate.op {
        case .equal:
            return equal(first, value, type)
        case .notEqual:
            return "NOT coalesce(\(equal(first, value, type)), false)"
        case .less, .lessOrEqual:
            let op = predicate.op == .less ? "<" : "<="
            return "(\(value) \(op) \(sortValue(first)) AND \(value) >= \(Self.lowest(first)) AND \(typeTest(first, type)))"
        case .greater, .greaterOrEqual:
            let op = predicate.op == .greater ? ">" : ">="
            return "(\(value) \(op) \(sortValue(first)) AND \(value) < \(Self.beyond(first)) AND \(typeTest(first, type)))"
        case .prefix:
            guard case .text(let prefix) = first else { throw .invalidArgument("the predicate prefix takes a string") }
            let start = bind(prefix)
            return #"""
                (\#(value) >= ROW(2, 0, \#(start))::logbook_sort \#
                AND \#(value) < ROW(2, 0, (\#(start) || chr(1114111)) COLLATE "C")::logbook_sort AND \#(type) = 'string')
                """#
        case .in:
            return oneOf(literals, value, type)
        }
    }

    private mutating func equal(_ literal: Literal, _ value: String, _ type: String) -> String {
        if case .null = literal { return "(\(value)).rank = 0" }
        return "(\(value) = \(sortValue(literal)) AND \(typeTest(literal, type)))"
    }

    /// The literals grouped by class, each class one `IN` list: `in (true, 2)` does not
    /// match 1.
    private mutating func oneOf(_ literals: [Literal], _ value: String, _ type: String) -> String {
        var alternatives = [String]()
        var classes = [Literal.Class: [Literal]]()
        for literal in literals { classes[literal.class, default: []].append(literal) }
        for kind in Literal.Class.allCases {
            guard let members = classes[kind], let first = members.first else { continue }
            if kind == .null {
                alternatives.append("(\(value)).rank = 0")
                continue
            }
            var seen = Set<Literal>()
            let values = members.filter { seen.insert($0).inserted }.map { sortValue($0) }
            alternatives.append("(\(value) IN (\(values.joined(separator: ", "))) AND \(typeTest(first, type)))")
        }
        return "(" + alternatives.joined(separator: " OR ") + ")"
    }

    /// The literal as a `logbook_sort` value, bound.
    private mutating func sortValue(_ literal: Literal) -> String {
        switch literal {
        case .null: "ROW(0, 0, '')::logbook_sort"
        case .bool(let value): "ROW(1, \(value ? 1 : 0), '')::logbook_sort"
        case .number(let text): "ROW(1, \(bind(text))::numeric, '')::logbook_sort"
        case .text(let text): "ROW(2, 0, \(bind(text)))::logbook_sort"
        }
    }

    /// The lowest sort value of the literal's rank, so a one-sided range stays in it.
    private static func lowest(_ literal: Literal) -> String {
        switch literal {
        case .text: "ROW(2, 0, '')::logbook_sort"
        default: "ROW(1, '-Infinity', '')::logbook_sort"
        }
    }

    /// A sort value above every value of the literal's rank.
    private static func beyond(_ literal: Literal) -> String {
        switch literal {
        case .text: "ROW(3, 0, '')::logbook_sort"
        default: "ROW(2, '-Infinity', '')::logbook_sort"
        }
    }

    private func typeTest(_ literal: Literal, _ type: String) -> String {
        switch literal {
        case .null: "\(type) IS NULL"
        case .bool: "\(type) = 'boolean'"
        case .number: "\(type) = 'number'"
        case .text: "\(type) = 'string'"
        }
    }

    /// The rows strictly after the cursor's `(value, key)` in the query's order.
    private mutating func after(_ cursor: ViewCursor) -> String {
        let beyond = plan.query.descending ? "<" : ">"
        let key = bind(cursor.key)
        guard let path = plan.query.orderBy else { return "key \(beyond) \(key)" }
        let last: String = switch cursor.value {
        case .none, .null: "ROW(0, 0, '')::logbook_sort"
        case .integer(let value): "ROW(1, \(bind(String(value)))::numeric, '')::logbook_sort"
        case .real(let value): "ROW(1, \(bind(String(value)))::numeric, '')::logbook_sort"
        case .decimal(let value): "ROW(1, \(bind(value))::numeric, '')::logbook_sort"
        case .text(let value): "ROW(2, 0, \(bind(value)))::logbook_sort"
        }
        return "(\(Self.sortKey(path)), key) \(beyond) (\(last), \(key))"
    }

    // MARK: Literals

    /// A predicate's JSON literal, classified here (PostgreSQL would parse it only as a
    /// value to compare, and say nothing useful of a bad one).
    enum Literal: Hashable {
        case null
        case bool(Bool)
        /// The number as written: PostgreSQL's `numeric` reads it exactly.
        case number(String)
        case text(String)

        enum Class: CaseIterable {
            case number, text, `true`, `false`, null
        }

        var `class`: Class {
            switch self {
            case .null: .null
            case .bool(let value): value ? .true : .false
            case .number: .number
            case .text: .text
            }
        }
    }

    private static func literal(_ json: String, of predicate: ViewPredicate) throws(StorageError) -> Literal {
        guard let literal = classify(json) else {
            throw .invalidArgument(
                "the predicate on \(predicate.path) compares against \(json): compare against a number, string, true, false or null")
        }
        switch (predicate.op, literal) {
        case (.less, .bool), (.less, .null), (.lessOrEqual, .bool), (.lessOrEqual, .null),
             (.greater, .bool), (.greater, .null), (.greaterOrEqual, .bool), (.greaterOrEqual, .null):
            throw .invalidArgument(
                "the predicate \(predicate.op) on \(predicate.path) compares against \(json): it orders numbers or strings only")
        case (.prefix, .text):
            return literal
        case (.prefix, _):
            throw .invalidArgument("the predicate prefix on \(predicate.path) compares against \(json): it takes a string")
        default:
            return literal
        }
    }

    /// Nil for text that is not one JSON number, string, true, false or null.
    static func classify(_ json: String) -> Literal? {
        let trimmed = json.trimmingCharacters(in: CharacterSet(charactersIn: " \t\n\r"))
        switch trimmed {
        case "null": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: break
        }
        if trimmed.hasPrefix("\"") {
            return (try? JSONDecoder().decode(String.self, from: Data(trimmed.utf8))).map(Literal.text)
        }
        return JSONText.isNumber(trimmed) ? .number(trimmed) : nil
    }
}

/// JSON text as the stores hand it out.
enum JSONText {
    /// `text` without the whitespace outside strings: PostgreSQL writes `jsonb` with a
    /// space after each `:` and `,`, and documents go out minified, as the embedded
    /// stores keep them.
    static func minified(_ text: String) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(text.utf8.count)
        var inString = false
        var escaped = false
        for byte in text.utf8 {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                bytes.append(byte)
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "\""):
                inString = true
            default:
                break
            }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// RFC 8259's number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    static func isNumber(_ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        func digits() -> Int {
            var count = 0
            while let byte = bytes.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                bytes.removeFirst()
                count += 1
            }
            return count
        }
        if bytes.first == UInt8(ascii: "-") { bytes.removeFirst() }
        if bytes.first == UInt8(ascii: "0") {
            bytes.removeFirst()
        } else if digits() == 0 {
            return false
        }
        if bytes.first == UInt8(ascii: ".") {
            bytes.removeFirst()
            guard digits() > 0 else { return false }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes.removeFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes.removeFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }
}
