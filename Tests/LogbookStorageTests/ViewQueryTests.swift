internal import Foundation
@testable internal import LogbookStorage
internal import Testing

/// Queries over a view, against a reference computed in Swift over random documents:
/// every predicate operator, every ordering in both directions, and pagination.
@Suite struct ViewQueryTests {
    /// A JSON scalar as the documents hold it.
    enum Scalar: Equatable {
        case int(Int)
        case real(Double)
        case text(String)
        case bool(Bool)
        case null

        var json: String {
            switch self {
            case .int(let value): "\(value)"
            case .real(let value): "\(value)"
            case .text(let value): "\"\(value)\""
            case .bool(let value): "\(value)"
            case .null: "null"
            }
        }

        /// What SQLite's `json_extract` gives, as an order rank (null, numbers, text) and
        /// a value: booleans are the numbers 0 and 1.
        var extracted: Extracted {
            switch self {
            case .int(let value): .number(Double(value))
            case .real(let value): .number(value)
            case .bool(let value): .number(value ? 1 : 0)
            case .text(let value): .text(value)
            case .null: .null
            }
        }

        /// The type class a literal matches.
        var typeClass: String {
            switch self {
            case .int, .real: "number"
            case .text: "text"
            case .bool(let value): "\(value)"
            case .null: "null"
            }
        }
    }

    enum Extracted: Comparable {
        case null
        case number(Double)
        case text(String)

        static func < (lhs: Extracted, rhs: Extracted) -> Bool {
            switch (lhs, rhs) {
            case (.null, .null): false
            case (.null, _): true
            case (_, .null): false
            case (.number(let a), .number(let b)): a < b
            case (.number, .text): true
            case (.text, .number): false
            case (.text(let a), .text(let b)): Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
            }
        }
    }

    /// A document: top-level scalars `n`, `s`, `b` (nil: missing) and `o`, which is
    /// missing, a number, or an object holding `x`.
    struct Document {
        var key: String
        var fields: [String: Scalar]
        /// nil: no `o`; `.some(nil)`: `o` is 5 (so `$.o.x` is missing); `.some(x)`: `{"x": x, "y": 1}`.
        var o: Scalar??

        var json: String {
            var members = fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value.json)" }
            switch o {
            case .none: break
            case .some(.none): members.append(#""o":5"#)
            case .some(.some(let x)): members.append("\"o\":{\"x\":\(x.json),\"y\":1}")
            }
            return "{" + members.joined(separator: ",") + "}"
        }

        /// The scalar at a path, nil when missing.
        func value(_ path: String) -> Scalar? {
            if path == "$.o.x" {
                guard case .some(.some(let x)) = o else { return nil }
                return x
            }
            return fields[String(path.dropFirst(2))]
        }
    }

    static let paths = ["$.n", "$.s", "$.b", "$.o.x"]

    static let pool: [Scalar] = [
        .int(-3), .int(0), .int(1), .int(2), .int(7), .real(1.0), .real(2.5), .real(-0.5),
        .text(""), .text("a"), .text("ab"), .text("abc"), .text("b"), .text("B"), .text("a b"), .text("1"),
        .bool(true), .bool(false), .null,
    ]

    static func documents(count: Int) -> [Document] {
        var random = SplitMix64(seed: 0x5EED)
        return (0..<count).map { index in
            var fields = [String: Scalar]()
            for name in ["n", "s", "b"] where random.next() % 5 != 0 {
                // Each field leans to one type so ties and mixed types both occur.
                let lean: [Scalar] = switch name {
                case "n": Array(pool[0..<8])
                case "s": Array(pool[8..<16])
                default: [.bool(true), .bool(false)]
                }
                fields[name] = random.next() % 3 == 0 ? pool[Int(random.next() % UInt64(pool.count))] : lean[Int(random.next() % UInt64(lean.count))]
            }
            let o: Scalar?? = switch random.next() % 4 {
            case 0: nil
            case 1: .some(nil)
            default: .some(pool[Int(random.next() % UInt64(pool.count))])
            }
            return Document(key: String(format: "k%03d", (index * 7919) % count), fields: fields, o: o)
        }
    }

    // MARK: Reference

    static func matches(_ document: Document, _ predicate: ViewPredicate, _ literals: [Scalar]) -> Bool {
        let actual = document.value(predicate.path)
        func equal(_ literal: Scalar) -> Bool {
            guard literal != .null else { return actual == nil || actual == .null }
            guard let actual, actual.typeClass == literal.typeClass else { return false }
            return actual.extracted == literal.extracted
        }
        func ordered(_ compare: (Extracted, Extracted) -> Bool) -> Bool {
            guard let actual, actual.typeClass == literals[0].typeClass else { return false }
            return compare(actual.extracted, literals[0].extracted)
        }
        switch predicate.op {
        case .equal: return equal(literals[0])
        case .notEqual: return !equal(literals[0])
        case .less: return ordered(<)
        case .lessOrEqual: return ordered(<=)
        case .greater: return ordered(>)
        case .greaterOrEqual: return ordered(>=)
        case .in: return literals.contains(where: equal)
        case .prefix:
            guard case .text(let text)? = actual, case .text(let prefix) = literals[0] else { return false }
            return text.utf8.starts(with: prefix.utf8)
        }
    }

    static func ordered(_ documents: [Document], by path: String?, descending: Bool) -> [String] {
        let sorted = documents.sorted { a, b in
            let (va, vb) = (path.map { a.value($0)?.extracted ?? .null }, path.map { b.value($0)?.extracted ?? .null })
            if let va, let vb, va != vb { return va < vb }
            return Array(a.key.utf8).lexicographicallyPrecedes(Array(b.key.utf8))
        }
        return (descending ? sorted.reversed() : sorted).map(\.key)
    }

    // MARK: Helpers

    static func withDocuments(
        count: Int = 300, indexed: [String] = paths, _ body: (EventStore, [Document]) async throws -> Void
    ) async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.createGroup(GroupStoreTests.definition("g"))
            try await store.defineView(ViewDefinition(name: "v", group: "g", indexedPaths: indexed))
            let documents = documents(count: count)
            try await ViewStoreTests.save(store, documents.map { ViewStoreTests.put($0.key, $0.json) })
            defer { LookupParity.forget(store) }
            try await body(store, documents)
        }
    }

    /// Every row of the query, paging with `limit`; checks that only the last page
    /// lacks a cursor.
    static func all(_ store: EventStore, _ query: ViewQuery) throws -> [ViewRow] {
        var query = query
        var rows = [ViewRow]()
        while true {
            let page = try LookupParity.query(store, query)
            rows += page.rows
            guard let next = page.nextCursor else { return rows }
            #expect(page.rows.count == query.limit)
            query.cursor = next
        }
    }

    static func code(_ body: () throws -> Void) -> StorageError.Code? {
        do {
            try body()
            return nil
        } catch {
            return (error as? StorageError)?.code ?? .internalError
        }
    }

    // MARK: Tests

    static let operators: [ViewPredicate.Operator] = [
        .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual, .prefix, .in,
    ]

    @Test(arguments: operators)
    func predicateMatchesTheReference(op: ViewPredicate.Operator) async throws {
        try await Self.withDocuments { store, documents in
            let literals: [[Scalar]] = switch op {
            case .prefix: [.text(""), .text("a"), .text("ab"), .text("B"), .text("z")].map { [$0] }
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                Self.pool.filter { $0.typeClass == "number" || $0.typeClass == "text" }.map { [$0] }
            case .in: [[.int(1), .text("a")], [.bool(true), .int(2)], [.null, .real(2.5), .text("")], [.bool(false)], Self.pool]
            default: Self.pool.map { [$0] }
            }
            for path in Self.paths {
                for values in literals {
                    let predicate = ViewPredicate(path: path, op: op, values: values.map(\.json))
                    let expected = documents.filter { Self.matches($0, predicate, values) }.map(\.key).sorted()
                    let rows = try Self.all(store, ViewQuery(view: "v", predicates: [predicate], limit: 1_000))
                    #expect(rows.map(\.key) == expected, "\(path) \(op) \(values.map(\.json))")
                }
            }
        }
    }

    @Test func predicatesCombineWithKeysAndEachOther() async throws {
        try await Self.withDocuments { store, documents in
            let predicates = [
                ViewPredicate(path: "$.n", op: .greaterOrEqual, values: ["0"]),
                ViewPredicate(path: "$.s", op: .notEqual, values: [#""a""#]),
            ]
            let literals: [[Scalar]] = [[.int(0)], [.text("a")]]
            func expected(_ keep: (String) -> Bool) -> [String] {
                documents.filter { document in
                    keep(document.key) && zip(predicates, literals).allSatisfy { Self.matches(document, $0, $1) }
                }.map(\.key).sorted()
            }
            let all = try Self.all(store, ViewQuery(view: "v", predicates: predicates, limit: 10))
            #expect(all.map(\.key) == expected { _ in true })
            let prefixed = try Self.all(store, ViewQuery(view: "v", keys: .prefix("k1"), predicates: predicates, limit: 3))
            #expect(prefixed.map(\.key) == expected { $0.hasPrefix("k1") })
            let one = try LookupParity.query(store, ViewQuery(view: "v", keys: .key("k123")))
            #expect(one.rows == [ViewRow(key: "k123", json: try #require(documents.first { $0.key == "k123" }).json)])
            #expect(one.nextCursor == nil)
            #expect(try LookupParity.query(store, ViewQuery(view: "v", keys: .key("k1234"))).rows.isEmpty)
        }
    }

    @Test(arguments: [nil] + paths, [false, true])
    func orderingMatchesTheReferenceAndPagesReturnEveryRowOnce(path: String?, descending: Bool) async throws {
        try await Self.withDocuments { store, documents in
            let expected = Self.ordered(documents, by: path, descending: descending)
            for limit in [1, 7, 300, 1_000] {
                let rows = try Self.all(store, ViewQuery(view: "v", orderBy: path, descending: descending, limit: limit))
                #expect(rows.map(\.key) == expected, "limit \(limit)")
            }
            let predicate = ViewPredicate(path: "$.b", op: .notEqual, values: ["true"])
            let filtered = documents.filter { Self.matches($0, predicate, [.bool(true)]) }
            let rows = try Self.all(store, ViewQuery(
                view: "v", predicates: [predicate], orderBy: path, descending: descending, limit: 5))
            #expect(rows.map(\.key) == Self.ordered(filtered, by: path, descending: descending))
        }
    }

    @Test func unindexedPathsGiveTheSameAnswers() async throws {
        try await Self.withDocuments(indexed: []) { store, documents in
            let predicate = ViewPredicate(path: "$.n", op: .in, values: ["1", "true", "null"])
            let expected = documents.filter { Self.matches($0, predicate, [.int(1), .bool(true), .null]) }
            let rows = try Self.all(store, ViewQuery(view: "v", predicates: [predicate], orderBy: "$.n", limit: 4))
            #expect(rows.map(\.key) == Self.ordered(expected, by: "$.n", descending: false))
        }
    }

    @Test func indexedPathsUseTheirIndex() async throws {
        try await Self.withDocuments(indexed: ["$.n", "$.s"]) { store, _ in
            func plan(_ predicates: [ViewPredicate], keys: ViewKeys = .all) throws -> String {
                try store.queryPlan(ViewQuery(view: "v", keys: keys, predicates: predicates)).joined(separator: "\n")
            }
            let id = try #require(try ViewStoreTests.sqlite(store, "SELECT id FROM views WHERE name = 'v'").first)
            for op in [ViewPredicate.Operator.equal, .less, .lessOrEqual, .greater, .greaterOrEqual] {
                let detail = try plan([ViewPredicate(path: "$.n", op: op, values: ["2"])])
                #expect(detail.contains("USING INDEX view_\(id)_i0"), "\(op): \(detail)")
            }
            let prefix = try plan([ViewPredicate(path: "$.s", op: .prefix, values: [#""ab""#])])
            #expect(prefix.contains("USING INDEX view_\(id)_i1"), "\(prefix)")
            let oneOf = try plan([ViewPredicate(path: "$.n", op: .in, values: ["1", "2", #""x""#, "true"])])
            #expect(oneOf.contains("USING INDEX view_\(id)_i0"), "\(oneOf)")
            #expect(!oneOf.contains("SCAN"), "\(oneOf)")
            let keys = try plan([], keys: .prefix("k1"))
            #expect(keys.contains("USING INDEX sqlite_autoindex_view_\(id)_1"), "\(keys)")
            let unindexed = try plan([ViewPredicate(path: "$.b", op: .equal, values: ["true"])])
            #expect(unindexed.contains("SCAN"), "\(unindexed)")
        }
    }

    @Test func aCursorBelongsToItsQuery() async throws {
        try await Self.withDocuments(count: 30) { store, _ in
            let query = ViewQuery(
                view: "v", predicates: [ViewPredicate(path: "$.n", op: .notEqual, values: ["1"])], orderBy: "$.s", limit: 2)
            let cursor = try #require(try LookupParity.query(store, query).nextCursor)
            var larger = query
            larger.limit = 5
            larger.cursor = cursor
            #expect(try LookupParity.query(store, larger).rows.count == 5, "the page size may change")
            var others = [ViewQuery]()
            for change in 0..<6 {
                var other = query
                switch change {
                case 0: other.predicates[0].values = ["2"]
                case 1: other.orderBy = "$.n"
                case 2: other.orderBy = nil
                case 3: other.descending = true
                case 4: other.keys = .prefix("k")
                default: other.predicates = []
                }
                other.cursor = cursor
                others.append(other)
            }
            for other in others {
                let error = #expect(throws: StorageError.self) { try LookupParity.query(store, other) }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.contains("the cursor belongs to another query") == true)
            }
            var damaged = query
            let otherFormat: [UInt8] = [2] + Array(cursor.dropFirst())
            for bytes: [UInt8] in [[], [1], Array(cursor.dropLast()), cursor + [0], otherFormat] {
                damaged.cursor = bytes
                #expect(Self.code { _ = try LookupParity.query(store, damaged) } == .invalidArgument)
            }
            #expect(Self.code { _ = try store.query(ViewQuery(view: "v", keys: .key("k001"), cursor: cursor), rows: []) } == .invalidArgument)
        }
    }

    @Test func badQueriesAreRefused() async throws {
        try await Self.withDocuments(count: 3) { store, _ in
            func refusal(_ query: ViewQuery) -> StorageError? {
                do {
                    _ = try LookupParity.query(store, query)
                    return nil
                } catch {
                    return error as? StorageError
                }
            }
            func predicate(_ op: ViewPredicate.Operator, _ values: [String]) -> ViewQuery {
                ViewQuery(view: "v", predicates: [ViewPredicate(path: "$.n", op: op, values: values)])
            }
            for limit in [0, -1, StorageLimits.queryRowsMax + 1] {
                #expect(refusal(ViewQuery(view: "v", limit: limit))?.code == .invalidArgument)
            }
            #expect(refusal(ViewQuery(view: "v", limit: StorageLimits.queryRowsMax)) == nil)
            let many = Array(repeating: ViewPredicate(path: "$.n", op: .equal, values: ["1"]), count: StorageLimits.queryPredicatesMax + 1)
            #expect(refusal(ViewQuery(view: "v", predicates: many))?.code == .invalidArgument)
            #expect(refusal(ViewQuery(view: "v", predicates: Array(many.dropLast()))) == nil)
            #expect(refusal(predicate(.in, []))?.code == .invalidArgument)
            #expect(refusal(predicate(.in, Array(repeating: "1", count: StorageLimits.queryInValuesMax + 1)))?.code == .invalidArgument)
            #expect(refusal(predicate(.in, Array(repeating: "1", count: StorageLimits.queryInValuesMax))) == nil)
            for op in Self.operators where op != .in {
                #expect(refusal(predicate(op, []))?.code == .invalidArgument, "\(op)")
                #expect(refusal(predicate(op, [#""a""#, #""b""#]))?.code == .invalidArgument, "\(op)")
            }
            for literal in ["{}", "[1]", #"{"a":1}"#, "", "x", "'a'", "{a:1}", "1 2"] {
                for op in Self.operators {
                    let error = refusal(predicate(op, [literal]))
                    #expect(error?.code == .invalidArgument, "\(op) \(literal)")
                    if op == .equal { #expect(error?.message.contains("compare against a number, string, true, false or null") == true) }
                }
            }
            for op in [ViewPredicate.Operator.less, .lessOrEqual, .greater, .greaterOrEqual] {
                for literal in ["true", "false", "null"] {
                    #expect(refusal(predicate(op, [literal]))?.code == .invalidArgument, "\(op) \(literal)")
                }
            }
            for literal in ["1", "true", "null"] {
                #expect(refusal(predicate(.prefix, [literal]))?.code == .invalidArgument, "prefix \(literal)")
            }
            #expect(refusal(ViewQuery(view: "missing"))?.code == .notFound)
            #expect(refusal(ViewQuery(view: "missing"))?.message == "view 'missing' does not exist")
            for system in ["$groups", "$stats", "$views", "$"] {
                #expect(refusal(ViewQuery(view: system))?.code == .notFound, "\(system)")
            }
            let travel = refusal(ViewQuery(view: "v", asOfPosition: 1))
            #expect(travel?.code == .invalidArgument)
            #expect(travel?.message.contains("time travel works on $streams and ReadStream") == true)
        }
    }

    @Test func callerRowsRunThroughTheSameEngine() async throws {
        try await StoreFixture.withStore { store in
            let rows = [
                ViewRow(key: "orders", json: #"{"checkpoint":10,"lag":0,"consumers":2}"#),
                ViewRow(key: "audit", json: #"{"checkpoint":3,"lag":7,"consumers":0}"#),
                ViewRow(key: "billing", json: #"{"checkpoint":3,"lag":7,"consumers":1,"note":"it's \"quoted\""}"#),
                ViewRow(key: "é-ünïcode", json: #"{"checkpoint":null}"#),
            ]
            let all = try store.query(ViewQuery(view: "$groups"), rows: rows)
            #expect(all.rows == rows.sorted { $0.key < $1.key })
            #expect(all.nextCursor == nil)

            var query = ViewQuery(
                view: "$groups", predicates: [ViewPredicate(path: "$.lag", op: .greater, values: ["0"])],
                orderBy: "$.consumers", descending: true, limit: 1)
            let first = try store.query(query, rows: rows)
            #expect(first.rows.map(\.key) == ["billing"])
            let next: [UInt8] = try #require(first.nextCursor)
            query.cursor = next
            let second = try store.query(query, rows: rows)
            #expect(second.rows.map(\.key) == ["audit"])
            #expect(second.nextCursor == nil)

            let nulls = try store.query(
                ViewQuery(view: "$groups", predicates: [ViewPredicate(path: "$.checkpoint", op: .equal, values: ["null"])]),
                rows: rows)
            #expect(nulls.rows.map(\.key) == ["é-ünïcode"])
            #expect(try store.query(ViewQuery(view: "$stats"), rows: []).rows.isEmpty)
        }
    }
}

/// A small deterministic generator, so a failure reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
