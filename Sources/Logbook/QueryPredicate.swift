/// A condition on the value at a JSON path of each document of a view.
///
/// ```swift
/// let page = try await client.query(ViewQuery("order_summaries", where: [
///     .greaterThan("$.total", 100),
///     .isIn("$.status", ["open", "paid"]),
/// ]))
/// ```
///
/// Paths are SQLite JSON paths: `$.customer`, `$.address.city`, `$.lines[0].sku`. A
/// document without a value at the path matches no comparison.
public struct QueryPredicate: Sendable, Hashable, CustomStringConvertible {
    /// How a document's value is compared. A struct so that operators can be added.
    public struct Operator: Sendable, Hashable, CustomStringConvertible {
        enum Kind: Sendable, Hashable, CaseIterable {
            case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual, prefix, `in`
        }

        let kind: Kind

        public static let equal = Operator(kind: .equal)
        public static let notEqual = Operator(kind: .notEqual)
        public static let less = Operator(kind: .less)
        public static let lessOrEqual = Operator(kind: .lessOrEqual)
        public static let greater = Operator(kind: .greater)
        public static let greaterOrEqual = Operator(kind: .greaterOrEqual)
        /// A string value starting with the (string) operand.
        public static let prefix = Operator(kind: .prefix)
        /// Equal to one of the operands.
        public static let `in` = Operator(kind: .in)

        /// The operator as the command line spells it: `=`, `!=`, `<`, `<=`, `>`, `>=`,
        /// `prefix`, `in`.
        public var description: String {
            switch self.kind {
            case .equal: "="
            case .notEqual: "!="
            case .less: "<"
            case .lessOrEqual: "<="
            case .greater: ">"
            case .greaterOrEqual: ">="
            case .prefix: "prefix"
            case .in: "in"
            }
        }

        /// The operator a command-line spelling stands for (`==` also means `=`, and the
        /// words in any case).
        public init?(_ spelling: String) {
            switch spelling.lowercased() {
            case "=", "==": self = .equal
            case "!=", "<>": self = .notEqual
            case "<": self = .less
            case "<=": self = .lessOrEqual
            case ">": self = .greater
            case ">=": self = .greaterOrEqual
            case "prefix": self = .prefix
            case "in": self = .in
            default: return nil
            }
        }

        init(kind: Kind) {
            self.kind = kind
        }
    }

    /// A JSON path such as `$.customer.id`.
    public var path: String
    public var op: Operator
    /// One value for every operator but `in`, which takes one or more.
    public var values: [QueryValue]

    public init(_ path: String, _ op: Operator, _ values: [QueryValue]) {
        self.path = path
        self.op = op
        self.values = values
    }

    public static func equal(_ path: String, _ value: QueryValue) -> QueryPredicate { .init(path, .equal, [value]) }
    public static func notEqual(_ path: String, _ value: QueryValue) -> QueryPredicate { .init(path, .notEqual, [value]) }
    public static func less(_ path: String, _ value: QueryValue) -> QueryPredicate { .init(path, .less, [value]) }
    public static func lessOrEqual(_ path: String, _ value: QueryValue) -> QueryPredicate { .init(path, .lessOrEqual, [value]) }
    public static func greater(_ path: String, _ value: QueryValue) -> QueryPredicate { .init(path, .greater, [value]) }
    public static func greaterOrEqual(_ path: String, _ value: QueryValue) -> QueryPredicate { .init(path, .greaterOrEqual, [value]) }
    public static func hasPrefix(_ path: String, _ prefix: String) -> QueryPredicate { .init(path, .prefix, [.string(prefix)]) }
    public static func isIn(_ path: String, _ values: [QueryValue]) -> QueryPredicate { .init(path, .in, values) }

    /// `PATH OP VALUE`, as `logbook query --where` takes it.
    public var description: String {
        let operand = self.op == .in ? "[" + self.values.map(\.json).joined(separator: ",") + "]" : self.values.map(\.json).joined(separator: ",")
        return "\(self.path) \(self.op) \(operand)"
    }
}

extension QueryPredicate {
    /// Parses `PATH OP VALUE` (`$.total >= 100`, `$.status = paid`, `$.id in [1, 2]`), the
    /// form `logbook query --where` takes.
    ///
    /// VALUE is a JSON literal, or else a bare word taken as a string (`paid` is `"paid"`);
    /// `in` takes a JSON array of literals. The spaces around a symbolic operator may be
    /// left out (`$.total>=100`).
    ///
    /// - Throws: ``LogbookError`` `.invalidArgument` saying what is wrong.
    public init(parsing text: String) throws(LogbookError) {
        func fail(_ reason: String) -> LogbookError {
            LogbookError(
                code: .invalidArgument,
                message: "malformed predicate '\(text)': \(reason); expected PATH OP VALUE with OP one of =, !=, <, <=, >, >=, prefix, in"
            )
        }
        let symbols: Set<Character> = ["=", "!", "<", ">"]
        var rest = Substring(text).drop { $0.isWhitespace }
        let path = rest.prefix { !$0.isWhitespace && !symbols.contains($0) }
        guard !path.isEmpty else { throw fail("no path") }
        rest = rest.dropFirst(path.count).drop { $0.isWhitespace }
        let spelling: Substring
        if let first = rest.first, symbols.contains(first) {
            spelling = rest.prefix { symbols.contains($0) }
        } else {
            spelling = rest.prefix { !$0.isWhitespace }
        }
        guard !spelling.isEmpty else { throw fail("no operator") }
        guard let op = Operator(String(spelling)) else { throw fail("unknown operator '\(spelling)'") }
        let operand = String(rest.dropFirst(spelling.count)).trimmingWhitespace()
        guard !operand.isEmpty else { throw fail("no value") }
        if op == .in {
            do {
                self.init(String(path), op, try Self.arrayElements(operand))
            } catch {
                throw fail("\(error)")
            }
            guard !self.values.isEmpty else { throw fail("'in' needs at least one value") }
            return
        }
        if let literal = try? QueryValue(jsonLiteral: operand) {
            self.init(String(path), op, [literal])
        } else if operand.first == "\"" || operand.first == "[" || operand.first == "{" {
            throw fail("the value \(operand) is not a JSON literal")
        } else {
            self.init(String(path), op, [.string(operand)])
        }
    }

    /// The elements of a JSON array of literals, each as a ``QueryValue``.
    private static func arrayElements(_ text: String) throws(JSONError) -> [QueryValue] {
        let bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "[") else {
            throw JSONError("'in' takes a JSON array such as [1, 2] or [\"a\", \"b\"]", at: 0, isSyntax: false)
        }
        var scanner = JSONScanner(bytes)
        var values: [QueryValue] = []
        try scanner.scanArray { (scanner: inout JSONScanner) throws(JSONError) in
            let start = scanner.index
            if !scanner.isAtEnd, scanner.bytes[start] == UInt8(ascii: "[") || scanner.bytes[start] == UInt8(ascii: "{") {
                throw JSONError("'in' takes literals, not arrays or objects", at: start, isSyntax: false)
            }
            let range = try scanner.scanValue()
            do {
                values.append(try QueryValue(jsonLiteral: String(decoding: scanner.bytes[range], as: UTF8.self)))
            } catch {
                throw JSONError("not a JSON literal", at: start, isSyntax: false)
            }
        }
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw JSONError("unexpected text after the array", at: scanner.index) }
        return values
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(self.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
