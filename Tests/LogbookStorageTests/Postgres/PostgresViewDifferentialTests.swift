internal import Foundation
@testable internal import LogbookPostgres
@testable internal import LogbookStorage
internal import Testing

/// Views on the PostgreSQL store against the SQLite engine, the reference (DESIGN.md §6,
/// §10): the same seeded random puts, merges and removes, carried by group progress saves,
/// then random queries (keys, prefixes, every predicate over numbers, strings, booleans,
/// null and missing paths, orders both ways, small limits) paged to the end through their
/// cursors. Every page's keys must be the same, and every document the same JSON value
/// (PostgreSQL's `jsonb` keeps its own key order, so the texts may differ in that only).
@Suite(.serialized, .enabled(if: PostgresFixture.isAvailable && StoreFixture.engine != .sqlite, "needs LOGBOOK_TEST_POSTGRES (scripts/test.sh starts a cluster); runs once, in the default storage run"))
struct PostgresViewDifferentialTests {
    static let paths = ["$.n", "$.s", "$.flag", "$.nested.v", "$.list[0]", "$.missing"]
    static let indexed = ["$.n", "$.s", "$.nested.v"]

    @Test(arguments: [1, 7, 42, 2026] as [UInt64])
    func randomViewsGetTheSameAnswersAsSQLite(seed: UInt64) async throws {
        try await PostgresFixture.withStore { postgres, _ in
            try await StoreFixture.with { fixture in
                let sqlite = try EventStore(
                    directory: fixture.directory, sync: .normal, logger: StoreFixture.logger, engine: .sqlite)
                do {
                    try await Self.run(seed: seed, postgres: postgres, sqlite: sqlite)
                } catch {
                    await sqlite.close()
                    throw error
                }
                await sqlite.close()
            }
        }
    }

    private static func run(seed: UInt64, postgres: PostgresStore, sqlite: EventStore) async throws {
        let definition = GroupStoreTests.definition("g")
        _ = try await postgres.createGroup(definition)
        _ = try await sqlite.createGroup(definition)
        let view = ViewDefinition(name: "v", group: "g", indexedPaths: indexed)
        try await postgres.defineView(view)
        try await sqlite.defineView(view)
        guard let claim = try await postgres.claimGroup("g", wanted: true, lease: .seconds(60)) else {
            Issue.record("no claim on the group")
            return
        }
        var random = SplitMix64(seed: seed)
        var queries = 0, rows = 0, refusals = 0
        for round in 0..<6 {
            let writes = (0..<40).map { _ in randomWrite(&random) }
            try await postgres.validateViewWrites(writes, group: "g", deliveries: writes.count)
            try sqlite.validateViewWrites(writes, group: "g", deliveries: writes.count)
            try await postgres.saveGroupProgress(
                "g", checkpoint: 0, settled: [], parked: [], unparked: [], viewWrites: writes, share: claim.share)
            try await sqlite.saveGroupProgress("g", checkpoint: 0, settled: [], parked: [], unparked: [], viewWrites: writes)
            for _ in 0..<40 {
                let query = randomQuery(&random)
                let expected = await pages(query) { try sqlite.query($0) }
                let actual = await pages(query) { try await postgres.query($0) }
                queries += 1
                switch (expected, actual) {
                case (.success(let expected), .success(let actual)):
                    rows += expected.count
                    #expect(actual.map(\.key) == expected.map(\.key), "seed \(seed) round \(round): \(query)")
                    for (mine, theirs) in zip(actual, expected) where !sameJSON(mine.json, theirs.json) {
                        Issue.record("seed \(seed) round \(round), key \(mine.key): \(mine.json) is not \(theirs.json)")
                    }
                case (.failure(let expected), .failure(let actual)):
                    refusals += 1
                    #expect(actual == expected, "seed \(seed) round \(round): \(query)")
                default:
                    Issue.record("seed \(seed) round \(round): \(query): SQLite \(expected), PostgreSQL \(actual)")
                }
            }
        }
        #expect(rows > 100 && refusals > 0, "\(queries) queries, \(rows) rows, \(refusals) refused")
        print("postgres view differential seed \(seed): \(queries) queries, \(rows) rows, \(refusals) refused")
    }

    /// The code a query was refused with.
    private struct Refusal: Error, Equatable {
        var code: StorageError.Code
    }

    /// Every page of `query`, through its cursors; or the code it was refused with.
    private static func pages(
        _ query: ViewQuery, _ read: (ViewQuery) async throws -> ViewPage
    ) async -> Result<[ViewRow], Refusal> {
        var query = query
        var rows = [ViewRow]()
        do {
            while true {
                let page = try await read(query)
                rows += page.rows
                guard let cursor = page.nextCursor, rows.count < 1_000 else { return .success(rows) }
                query.cursor = cursor
            }
        } catch let error as StorageError {
            return .failure(Refusal(code: error.code))
        } catch {
            return .failure(Refusal(code: .internalError))
        }
    }

    private static func sameJSON(_ first: String, _ second: String) -> Bool {
        guard let one = try? JSONSerialization.jsonObject(with: Data(first.utf8), options: .fragmentsAllowed),
              let other = try? JSONSerialization.jsonObject(with: Data(second.utf8), options: .fragmentsAllowed)
        else { return false }
        return same(one, other)
    }

    /// Equal JSON values: objects by their members, whatever their order, and numbers by
    /// value (PostgreSQL writes 1e3 as 1000).
    private static func same(_ one: Any, _ other: Any) -> Bool {
        switch (one, other) {
        case (let one as [String: Any], let other as [String: Any]):
            return one.count == other.count && one.allSatisfy { key, value in other[key].map { same(value, $0) } ?? false }
        case (let one as [Any], let other as [Any]):
            return one.count == other.count && zip(one, other).allSatisfy(same)
        case (let one as String, let other as String):
            return one == other
        case (let one as NSNumber, let other as NSNumber):
            return one.doubleValue == other.doubleValue
        case (is NSNull, is NSNull):
            return true
        default:
            return false
        }
    }

    // MARK: Random writes

    private static let keys = (0..<30).map { String(format: "k%02d", $0) } + ["a", "a/b", "é", "Z"]
    private static let strings = [#""""#, #""a""#, #""ab""#, #""abc""#, #""b""#, #""A""#, #""é""#, #""z y""#, #""10""#]
    private static let numbers = ["0", "1", "1.0", "-1", "2.5", "-2.5", "10", "1e3", "123456789", "0.001"]
    private static let scalars = strings + numbers + ["true", "false", "null"]

    private static func pick<T>(_ values: [T], _ random: inout SplitMix64) -> T {
        values[Int(random.next() % UInt64(values.count))]
    }

    private static func chance(_ percent: UInt64, _ random: inout SplitMix64) -> Bool {
        random.next() % 100 < percent
    }

    private static func randomDocument(_ random: inout SplitMix64) -> String {
        var fields = [String]()
        if chance(80, &random) { fields.append(#""n":\#(pick(numbers + ["true", "null", #""7""#], &random))"#) }
        if chance(70, &random) { fields.append(#""s":\#(pick(strings + ["3", "false"], &random))"#) }
        if chance(50, &random) { fields.append(#""flag":\#(pick(["true", "false", "null", "1", "0"], &random))"#) }
        if chance(50, &random) { fields.append(#""nested":{"v":\#(pick(scalars, &random))}"#) }
        if chance(40, &random) { fields.append(#""list":[\#(pick(scalars, &random)),\#(pick(scalars, &random))]"#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    private static func randomWrite(_ random: inout SplitMix64) -> ViewWrite {
        let key = pick(keys, &random)
        switch random.next() % 10 {
        case 0..<5:
            return ViewWrite(view: "v", key: key, operation: .put(randomDocument(&random)))
        case 5..<8:
            let patch = pick([
                #"{"n":\#(pick(numbers, &random))}"#, #"{"s":null}"#, #"{"nested":{"v":\#(pick(scalars, &random))}}"#,
                #"{"flag":true,"n":null}"#, #"{"list":[1]}"#, #"{"nested":null}"#,
            ], &random)
            return ViewWrite(view: "v", key: key, operation: .merge(patch))
        default:
            return ViewWrite(view: "v", key: key, operation: .remove)
        }
    }

    // MARK: Random queries

    private static func randomQuery(_ random: inout SplitMix64) -> ViewQuery {
        let keys: ViewKeys = switch random.next() % 6 {
        case 0: .key(pick(Self.keys, &random))
        case 1: .prefix(pick(["k0", "k1", "k2", "a", "", "é"], &random))
        default: .all
        }
        var predicates = [ViewPredicate]()
        for _ in 0..<(random.next() % 3) {
            predicates.append(randomPredicate(&random))
        }
        let orderBy = chance(60, &random) ? pick(paths.filter { $0 != "$.list[0]" }, &random) : nil
        return ViewQuery(
            view: "v", keys: keys, predicates: predicates, orderBy: orderBy, descending: chance(50, &random),
            limit: Int(1 + random.next() % 7))
    }

    private static func randomPredicate(_ random: inout SplitMix64) -> ViewPredicate {
        let path = pick(paths, &random)
        let op = pick([ViewPredicate.Operator.equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual, .prefix, .in], &random)
        func literal(_ random: inout SplitMix64) -> String {
            // Now and then one that is not a scalar, to be refused by both.
            chance(3, &random) ? pick(["{}", "[1]", "abc", "01", "1.", #""open"#], &random) : pick(scalars, &random)
        }
        var values = [literal(&random)]
        if op == .in {
            for _ in 0..<(random.next() % 3) { values.append(literal(&random)) }
        }
        return ViewPredicate(path: path, op: op, values: values)
    }
}
