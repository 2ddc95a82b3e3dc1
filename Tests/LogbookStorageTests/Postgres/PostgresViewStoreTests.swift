internal import Foundation
@testable internal import LogbookPostgres
@testable internal import LogbookStorage
internal import Testing

/// Views on the store two daemons share: definitions seen by both, view writes checked
/// before an ack is taken, applied under the group's fence (a daemon that lost its lease
/// writes nothing to a view), cleared by a reset, and a group kept while it writes views.
@Suite(.enabled(if: PostgresFixture.isAvailable && StoreFixture.engine != .sqlite, "needs LOGBOOK_TEST_POSTGRES (scripts/test.sh starts a cluster); runs once, in the default storage run"))
struct PostgresViewStoreTests {
    private static let lease = Duration.seconds(30)
    private static let code = GroupStoreTests.code

    private static func put(_ key: String, _ json: String) -> ViewWrite {
        ViewWrite(view: "v", key: key, operation: .put(json))
    }

    private static func documents(_ store: PostgresStore) async throws -> [String: String] {
        var documents = [String: String]()
        for row in try await store.query(ViewQuery(view: "v", limit: 1_000)).rows { documents[row.key] = row.json }
        return documents
    }

    /// Both stores with groups `g` and `h`, and view `v` written by `g`.
    private static func withView(_ body: (PostgresStore, PostgresStore) async throws -> Void) async throws {
        try await PostgresFixture.withTwoStores { first, second in
            _ = try await first.createGroup(GroupStoreTests.definition("g"))
            _ = try await first.createGroup(GroupStoreTests.definition("h"))
            try await first.defineView(ViewDefinition(name: "v", group: "g", indexedPaths: ["$.n"]))
            try await body(first, second)
        }
    }

    @Test func definitionsAreSharedAndChecked() async throws {
        try await Self.withView { first, second in
            #expect(try await second.views() == [ViewDefinition(name: "v", group: "g", indexedPaths: ["$.n"])])
            // The same definition again changes nothing; another under the name is refused.
            try await second.defineView(ViewDefinition(name: "v", group: "g", indexedPaths: ["$.n"]))
            #expect(await Self.code { try await second.defineView(ViewDefinition(name: "v", group: "h")) } == .viewExists)
            #expect(await Self.code { try await second.defineView(ViewDefinition(name: "w", group: "none")) } == .notFound)
            #expect(await Self.code { try await second.defineView(ViewDefinition(name: "$w", group: "g")) } == .invalidArgument)
            #expect(await Self.code {
                try await second.defineView(ViewDefinition(name: "w", group: "g", indexedPaths: ["$.a'b"]))
            } == .invalidArgument)
            // A group that writes a view is kept, from either daemon.
            #expect(await Self.code { try await second.deleteGroup("g") } == .failedPrecondition)
            // The first remembers the view's table; dropped by the second, it is gone for both.
            #expect(try await first.query(ViewQuery(view: "v")).rows.isEmpty)
            try await second.dropView("v")
            #expect(await Self.code { try await first.query(ViewQuery(view: "v")) } == .notFound)
            #expect(await Self.code { try await first.dropView("v") } == .notFound)
            try await first.deleteGroup("g")
        }
    }

    @Test func writesAreCheckedBeforeTheAckIsTaken() async throws {
        try await Self.withView { first, _ in
            func check(_ writes: [ViewWrite], group: String = "g") async -> StorageError.Code? {
                await Self.code { try await first.validateViewWrites(writes, group: group, deliveries: 1) }
            }
            #expect(await check([Self.put("a", #"{"n":1}"#), ViewWrite(view: "v", key: "a", operation: .remove)]) == nil)
            #expect(await check([ViewWrite(view: "nope", key: "a", operation: .remove)]) == .notFound)
            #expect(await check([Self.put("a", "{}")], group: "h") == .failedPrecondition)
            #expect(await check([Self.put("a", "{")]) == .invalidArgument)
            // JSON that PostgreSQL's jsonb cannot hold is refused here, not at the save.
            #expect(await check([Self.put("a", #"{"s":"\u0000"}"#)]) == .invalidArgument)
            #expect(await check([Self.put("", "{}")]) == .invalidArgument)
            // A merge is checked against the document it would make.
            let big = String(repeating: "x", count: StorageLimits.viewDocumentBytesMax - 100)
            let claim = try #require(try await first.claimGroup("g", wanted: true, lease: Self.lease))
            try await first.saveGroupProgress(
                "g", checkpoint: 0, settled: [], parked: [], unparked: [], viewWrites: [Self.put("a", #"{"big":"\#(big)"}"#)],
                share: claim.share)
            #expect(await check([ViewWrite(view: "v", key: "a", operation: .merge(#"{"more":"\#(String(repeating: "y", count: 200))"}"#))])
                == .invalidArgument)
            #expect(await check([ViewWrite(view: "v", key: "a", operation: .merge(#"{"big":null}"#))]) == nil)
        }
    }

    /// The acks of one pass checked together: each gets its own verdict, the good ones
    /// around a refused one included.
    @Test func theAcksOfAPassAreCheckedTogether() async throws {
        try await Self.withView { first, _ in
            let gone = ViewWrite(view: "gone", key: "a", operation: .remove)
            let acks: [(writes: [ViewWrite], deliveries: Int)] = [
                ([Self.put("a", "{}"), Self.put("b", "{}")], 1),
                ([Self.put("c", "{}"), gone], 1),
                ([Self.put("d", "{}")], 1),
                ([Self.put("e", "[")], 1),
                ([Self.put("", "{}")], 1),
                ([Self.put("f", "{}"), Self.put("g", "{}")], 1),
            ]
            let verdicts = await first.viewWriteRefusals(acks, group: "g").map { ($0 as? StorageError)?.code }
            #expect(verdicts == [nil, .notFound, nil, .invalidArgument, .invalidArgument, nil])
        }
    }

    /// Puts, merges (RFC 7396, a missing document patched as `{}`) and removes, in order.
    @Test func savesApplyWritesInOrder() async throws {
        try await Self.withView { first, second in
            let claim = try #require(try await first.claimGroup("g", wanted: true, lease: Self.lease))
            try await first.saveGroupProgress("g", checkpoint: 0, settled: [], parked: [], unparked: [], viewWrites: [
                Self.put("a", #"{"n": 1, "tags": ["x"], "deep": {"k": 1, "j": 2}}"#),
                ViewWrite(view: "v", key: "a", operation: .merge(#"{"n":2,"deep":{"k":null,"m":3},"tags":null}"#)),
                ViewWrite(view: "v", key: "b", operation: .merge(#"{"n":5,"gone":null}"#)),
                Self.put("c", "[1,2]"),
                ViewWrite(view: "v", key: "c", operation: .remove),
                ViewWrite(view: "v", key: "never", operation: .remove),
            ], share: claim.share)
            #expect(try await Self.documents(second) == ["a": #"{"n":2,"deep":{"j":2,"m":3}}"#, "b": #"{"n":5}"#])
        }
    }

    /// A daemon whose lease moved writes nothing to a view: its save is refused whole.
    /// A reset with `clearViews` empties the group's views with it.
    @Test func aSaveUnderALostLeaseWritesNoViewAndAResetClearsThem() async throws {
        try await Self.withView { first, second in
            let short = try #require(try await first.claimGroup("g", wanted: true, lease: .milliseconds(1)))
            try await Task.sleep(for: .milliseconds(20))
            let taken = try #require(try await second.claimGroup("g", wanted: true, lease: Self.lease))
            let refused = await Self.code {
                try await first.saveGroupProgress(
                    "g", checkpoint: 0, settled: [], parked: [], unparked: [], viewWrites: [Self.put("late", "{}")],
                    share: short.share)
            }
            #expect(refused == .failedPrecondition)
            try await second.saveGroupProgress(
                "g", checkpoint: 0, settled: [], parked: [], unparked: [], viewWrites: [Self.put("kept", "{}")],
                share: taken.share)
            #expect(try await Self.documents(first) == ["kept": "{}"])
            try await first.resetGroup("g", to: nil, clearViews: false)
            #expect(try await Self.documents(first) == ["kept": "{}"])
            try await first.resetGroup("g", to: nil, clearViews: true)
            #expect(try await Self.documents(second).isEmpty)
        }
    }

    /// What needs no database: paths, numbers, minified text, literals.
    @Test func textHelpers() {
        #expect(PostgresViewQuery.pathArray("$.a.b[0].c_1") == "{a,b,0,c_1}")
        #expect(JSONText.minified(#"{"a": [1, 2], "b": "x y, z: \"q\" "}"#) == #"{"a":[1,2],"b":"x y, z: \"q\" "}"#)
        for number in ["0", "-0", "1.5", "1e3", "-2.5E-7", "123"] { #expect(JSONText.isNumber(number), "\(number)") }
        for text in ["", "-", "01", "1.", ".5", "1e", "+1", "1 2", "NaN"] { #expect(!JSONText.isNumber(text), "\(text)") }
        #expect(PostgresViewQuery.classify(" true ") == .bool(true))
        #expect(PostgresViewQuery.classify(#""a\u00e9""#) == .text("aé"))
        #expect(PostgresViewQuery.classify("2.50") == .number("2.50"))
        #expect(PostgresViewQuery.classify("{}") == nil)
        #expect(PostgresViewQuery.classify("nul") == nil)
    }
}
