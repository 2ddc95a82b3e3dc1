internal import Foundation
@testable internal import LogbookStorage
internal import Testing

/// View definitions, and view writes carried by group progress saves.
@Suite struct ViewStoreTests {
    static let code = GroupStoreTests.code

    /// A store with groups `g` and `h`, and view `v` (written by `g`, indexing `$.n`).
    static func withViews(_ body: (EventStore) async throws -> Void) async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.createGroup(GroupStoreTests.definition("g"))
            _ = try await store.createGroup(GroupStoreTests.definition("h"))
            try await store.defineView(ViewDefinition(name: "v", group: "g", indexedPaths: ["$.n"]))
            defer { LookupParity.forget(store) }
            try await body(store)
        }
    }

    static func save(_ store: EventStore, _ writes: [ViewWrite], group: String = "g") async throws {
        try store.validateViewWrites(writes, group: group)
        try await store.saveGroupProgress(group, checkpoint: 0, settled: [], parked: [], unparked: [], viewWrites: writes)
    }

    /// Every document of a view, by key.
    static func documents(_ store: EventStore, _ view: String = "v") throws -> [String: String] {
        var documents = [String: String]()
        var cursor: [UInt8]?
        repeat {
            let page = try LookupParity.query(store, ViewQuery(view: view, limit: 7, cursor: cursor))
            for row in page.rows { documents[row.key] = row.json }
            cursor = page.nextCursor
        } while cursor != nil
        return documents
    }

    static func viewNames(_ store: EventStore) throws -> [String] {
        try store.views().map(\.name)
    }

    static func put(_ key: String, _ json: String, view: String = "v") -> ViewWrite {
        ViewWrite(view: view, key: key, operation: .put(json))
    }

    static func merge(_ key: String, _ json: String, view: String = "v") -> ViewWrite {
        ViewWrite(view: view, key: key, operation: .merge(json))
    }

    /// Lines of the `sqlite3` shell's output, on the store's file (WAL lets it read).
    static func sqlite(_ store: EventStore, _ sql: String) throws -> [String] {
        try SchemaMigrationTests.sqlite(store.databasePath, sql).split(separator: "\n").map(String.init)
    }

    // MARK: Definitions

    @Test func defineListRedefineAndDrop() async throws {
        try await Self.withViews { store in
            let second = ViewDefinition(name: "a-view", group: "h", indexedPaths: ["$.customer.id", "$.lines[0].sku", "$._x9"])
            try await store.defineView(second)
            #expect(try store.views() == [second, ViewDefinition(name: "v", group: "g", indexedPaths: ["$.n"])])

            try await Self.save(store, [Self.put("k", #"{"n":1}"#)])
            try await store.defineView(ViewDefinition(name: "v", group: "g", indexedPaths: ["$.n"]))
            #expect(try Self.documents(store) == ["k": #"{"n":1}"#], "redefining the same view changes nothing")

            for different in [
                ViewDefinition(name: "v", group: "h", indexedPaths: ["$.n"]),
                ViewDefinition(name: "v", group: "g", indexedPaths: []),
                ViewDefinition(name: "v", group: "g", indexedPaths: ["$.n", "$.m"]),
            ] {
                #expect(await Self.code { try await store.defineView(different) } == .viewExists)
            }
            #expect(await Self.code { try await store.defineView(ViewDefinition(name: "w", group: "missing")) } == .notFound)

            let id = try #require(try Self.sqlite(store, "SELECT id FROM views WHERE name = 'a-view'").first)
            #expect(try Self.sqlite(store, "SELECT name FROM sqlite_master WHERE tbl_name = 'view_\(id)' AND type = 'index' AND name LIKE 'view_%' ORDER BY name")
                == ["view_\(id)_i0", "view_\(id)_i1", "view_\(id)_i2"])
            try await store.dropView("a-view")
            #expect(try Self.sqlite(store, "SELECT name FROM sqlite_master WHERE tbl_name = 'view_\(id)'") == [])
            #expect(try Self.viewNames(store) == ["v"])
            #expect(await Self.code { try await store.dropView("a-view") } == .notFound)
            #expect(throws: StorageError.self) { try LookupParity.query(store, ViewQuery(view: "a-view")) }
        }
    }

    @Test(arguments: ["", "$mine", String(repeating: "v", count: 257)])
    func badViewNamesAreRefused(name: String) async throws {
        try await Self.withViews { store in
            #expect(await Self.code { try await store.defineView(ViewDefinition(name: name, group: "g")) } == .invalidArgument)
            let names = try Self.viewNames(store)
            #expect(names == ["v"])
        }
    }

    static let badPaths = [
        "", "$", "n", "$n", "$.", "$..n", "$.9n", "$.n-m", "$.n'", "$.n]", "$[", "$[]", "$[x]", "$[1", "$[-1]",
        "$.a b", "$.é", "$.n.", "$['n']", "$.n;DROP TABLE views", "$" + String(repeating: ".abc", count: 64),
    ]

    @Test(arguments: badPaths)
    func badPathsAreRefused(path: String) async throws {
        try await Self.withViews { store in
            let error = await #expect(throws: StorageError.self) {
                try await store.defineView(ViewDefinition(name: "w", group: "g", indexedPaths: [path]))
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("'$' followed by one or more '.name' or '[index]'") == true)
            #expect(throws: StorageError.self) {
                try LookupParity.query(store, ViewQuery(view: "v", predicates: [ViewPredicate(path: path, op: .equal, values: ["1"])]))
            }
            #expect(throws: StorageError.self) { try LookupParity.query(store, ViewQuery(view: "v", orderBy: path)) }
        }
    }

    @Test func definitionLimits() async throws {
        try await Self.withViews { store in
            let many = (0...StorageLimits.viewIndexedPathsMax).map { "$.p\($0)" }
            #expect(await Self.code { try await store.defineView(ViewDefinition(name: "w", group: "g", indexedPaths: many)) } == .invalidArgument)
            #expect(await Self.code { try await store.defineView(ViewDefinition(name: "w", group: "g", indexedPaths: ["$.a", "$.a"])) } == .invalidArgument)
            try await store.defineView(ViewDefinition(name: "w", group: "g", indexedPaths: Array(many.dropLast())))
        }
    }

    @Test func deletingAGroupThatWritesViewsIsRefused() async throws {
        try await Self.withViews { store in
            try await store.defineView(ViewDefinition(name: "u", group: "g"))
            let error = await #expect(throws: StorageError.self) { try await store.deleteGroup("g") }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message.contains("'u', 'v'") == true)
            #expect(error?.message.contains("drop them first") == true)
            #expect(try store.group("g") != nil)
            try await store.dropView("u")
            try await store.dropView("v")
            try await store.deleteGroup("g")
            #expect(try store.group("g") == nil)
        }
    }

    // MARK: Writes

    @Test func validateViewWritesRefusals() async throws {
        try await Self.withViews { store in
            try await store.defineView(ViewDefinition(name: "hv", group: "h"))
            func refusal(_ writes: [ViewWrite], group: String = "g") -> StorageError? {
                do {
                    try store.validateViewWrites(writes, group: group)
                    return nil
                } catch {
                    return error as? StorageError
                }
            }
            #expect(refusal([Self.put("k", "{}"), ViewWrite(view: "v", key: "x", operation: .remove)]) == nil)
            #expect(refusal([]) == nil)
            let missing = refusal([Self.put("k", "{}"), ViewWrite(view: "nope", key: "x", operation: .remove)])
            #expect(missing?.code == .notFound)
            #expect(missing?.message == "view 'nope' does not exist")
            let foreign = refusal([Self.put("k", "{}", view: "hv")])
            #expect(foreign?.code == .failedPrecondition)
            #expect(foreign?.message == "view 'hv' is written by group 'h', not 'g'")
            #expect(refusal([Self.put("", "{}")])?.code == .invalidArgument)
            #expect(refusal([Self.put(String(repeating: "k", count: StorageLimits.viewKeyBytesMax + 1), "{}")])?.code == .invalidArgument)
            #expect(refusal([Self.put(String(repeating: "k", count: StorageLimits.viewKeyBytesMax), "{}")]) == nil)
            let big = "\"" + String(repeating: "x", count: StorageLimits.viewDocumentBytesMax) + "\""
            #expect(refusal([Self.put("k", big)])?.code == .invalidArgument)
            for invalid in ["", "{", "{a:1}", "[1,]", "'x'", "{\"a\":1} x", "NaN", "{\"a\":01}"] {
                let error = refusal([Self.put("k", invalid)])
                #expect(error?.code == .invalidArgument, "\(invalid)")
                #expect(error?.message.contains("key 'k' of view 'v'") == true)
                #expect(refusal([Self.merge("k", invalid)])?.code == .invalidArgument, "\(invalid)")
            }
            let tooMany = Array(repeating: Self.put("k", "1"), count: StorageLimits.viewWritesPerAckMax + 1)
            #expect(refusal(tooMany)?.code == .invalidArgument)
            // An ack of two deliveries (a client batching acks) may carry twice as many.
            #expect(throws: Never.self) { try store.validateViewWrites(tooMany, group: "g", deliveries: 2) }
        }
    }

    /// A merge may not grow a document past the size a put may store.
    @Test func aMergeThatWouldOutgrowTheDocumentLimitIsRefused() async throws {
        try await Self.withViews { store in
            let half = String(repeating: "x", count: StorageLimits.viewDocumentBytesMax / 2)
            try await Self.save(store, [Self.put("k", #"{"a":"\#(half)"}"#)])
            let growth = [Self.merge("k", #"{"b":"\#(half)"}"#)]
            #expect(throws: StorageError.self) { try store.validateViewWrites(growth, group: "g") }
            let replacing = [Self.merge("k", #"{"a":"small","b":"\#(half.dropLast(100))"}"#)]
            #expect(throws: Never.self) { try store.validateViewWrites(replacing, group: "g") }
            #expect(throws: Never.self) { try store.validateViewWrites([Self.merge("new", #"{"b":1}"#)], group: "g") }
        }
    }

    /// One progress save carries the writes of every ack a pass of the group settled: more
    /// than one ack may carry.
    @Test func aSaveCarriesTheWritesOfManyAcks() async throws {
        try await Self.withViews { store in
            let writes = (0..<(StorageLimits.viewWritesPerAckMax * 3 / 2)).map { Self.put("k\($0)", #"{"n":\#($0)}"#) }
            try await store.saveGroupProgress("g", checkpoint: 0, settled: [], parked: [], unparked: [], viewWrites: writes)
            #expect(try Self.documents(store).count == writes.count)
        }
    }

    @Test func putMergeAndRemove() async throws {
        try await Self.withViews { store in
            try await Self.save(store, [
                Self.put("a", #"  { "n" : 1, "o": {"x": 1, "y": [1, 2]} } "#),
                Self.put("b", #"{"n":2}"#),
                Self.merge("new", #"{"made":true}"#),
                Self.merge("scalar", "7"),
            ])
            #expect(try Self.documents(store) == [
                "a": #"{"n":1,"o":{"x":1,"y":[1,2]}}"#, "b": #"{"n":2}"#, "new": #"{"made":true}"#, "scalar": "7",
            ])
            try await Self.save(store, [
                // Nested objects merge; null removes a member; an array replaces.
                Self.merge("a", #"{"o":{"x":null,"z":{"deep":1},"y":[3]},"m":"s"}"#),
                // A patch that is not an object replaces the document.
                Self.merge("b", #"["replaced"]"#),
                // An object patch on a non-object document starts from {}.
                Self.merge("scalar", #"{"k":null,"l":1}"#),
                ViewWrite(view: "v", key: "new", operation: .remove),
                ViewWrite(view: "v", key: "absent", operation: .remove),
                Self.put("c", "1"), Self.put("c", "2"),
            ])
            #expect(try Self.documents(store) == [
                "a": #"{"n":1,"o":{"y":[3],"z":{"deep":1}},"m":"s"}"#, "b": #"["replaced"]"#,
                "scalar": #"{"l":1}"#, "c": "2",
            ])
        }
    }

    @Test func aFailedSaveAppliesNoViewWrite() async throws {
        try await Self.withViews { store in
            try await Self.save(store, [Self.put("a", #"{"n":1}"#)])
            let writes = [Self.put("a", #"{"n":2}"#), Self.put("b", "{}"), ViewWrite(view: "v", key: "a", operation: .remove)]
            try store.validateViewWrites(writes, group: "g")
            let error = await #expect(throws: StorageError.self) {
                try await store.saveGroupProgress(
                    "g", checkpoint: 0, settled: [], parked: [ParkedRecord(position: 5, reason: "beyond the head", attempts: 1)],
                    unparked: [], viewWrites: writes)
            }
            #expect(error?.code == .invalidArgument)
            #expect(try Self.documents(store) == ["a": #"{"n":1}"#])
            // A write that skipped validation and fails in SQLite undoes the ones before it.
            #expect(await Self.code {
                try await store.saveGroupProgress(
                    "g", checkpoint: 2, settled: [], parked: [], unparked: [],
                    viewWrites: [Self.put("b", "{}"), Self.merge("a", "{not json")])
            } != nil)
            #expect(try Self.documents(store) == ["a": #"{"n":1}"#])
            #expect(try store.group("g")?.checkpoint == 0)
            // The writer is still good for the next save.
            try await Self.save(store, [Self.put("b", "{}")])
            #expect(try Self.documents(store) == ["a": #"{"n":1}"#, "b": "{}"])
        }
    }

    @Test func writesToAViewDroppedOrRedefinedSinceValidationAreSkipped() async throws {
        try await Self.withViews { store in
            try await store.defineView(ViewDefinition(name: "u", group: "g"))
            let writes = [Self.put("a", "1", view: "u"), Self.put("a", "1"), Self.put("b", "2", view: "w")]
            try await store.defineView(ViewDefinition(name: "w", group: "g"))
            try store.validateViewWrites(writes, group: "g")
            try await store.dropView("u")
            try await store.dropView("w")
            try await store.defineView(ViewDefinition(name: "w", group: "h"))
            try await store.saveGroupProgress("g", checkpoint: 3, settled: [], parked: [], unparked: [], viewWrites: writes)
            #expect(try Self.documents(store) == ["a": "1"])
            #expect(try Self.documents(store, "w") == [:])
            #expect(try store.group("g")?.checkpoint == 3)
        }
    }

    @Test func resetWithClearViewsEmptiesTheGroupsViewsOnly() async throws {
        try await Self.withViews { store in
            try await store.defineView(ViewDefinition(name: "u", group: "g"))
            try await store.defineView(ViewDefinition(name: "hv", group: "h"))
            try await Self.save(store, [Self.put("a", "1"), Self.put("b", "2", view: "u")])
            try await Self.save(store, [Self.put("c", "3", view: "hv")], group: "h")
            try await store.resetGroup("g", to: nil)
            #expect(try Self.documents(store) == ["a": "1"], "a reset without clearViews keeps documents")
            try await store.resetGroup("g", to: nil, clearViews: true)
            #expect(try Self.documents(store) == [:])
            #expect(try Self.documents(store, "u") == [:])
            #expect(try Self.documents(store, "hv") == ["c": "3"])
        }
    }

    @Test func viewsSurviveAReopen() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open()
            _ = try await store.createGroup(GroupStoreTests.definition("g"))
            try await store.defineView(ViewDefinition(name: "v", group: "g", indexedPaths: ["$.n"]))
            try await Self.save(store, [Self.put("a", #"{"n":1}"#)])
            await store.close()
            let reopened = try fixture.open()
            #expect(try reopened.views() == [ViewDefinition(name: "v", group: "g", indexedPaths: ["$.n"])])
            #expect(try Self.documents(reopened) == ["a": #"{"n":1}"#])
            await reopened.close()
        }
    }
}

/// A version-3 database (no views) gains the views table at open, keeping its groups.
@Suite struct ViewSchemaMigrationTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: SchemaMigrationTests.sqlite3)))
    func versionThreeIsMigrated() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open()
            _ = try await store.append([Make.write("order-1", .any, Make.events(5))])
            _ = try await store.createGroup(GroupStoreTests.definition("g"))
            await store.close()
            _ = try SchemaMigrationTests.sqlite(
                fixture.databasePath, SchemaMigrationTests.versionFourStreams + "DROP TABLE views; PRAGMA user_version = 3;")

            let migrated = try fixture.open()
            #expect(try migrated.views().isEmpty)
            #expect(try migrated.group("g") != nil)
            try await migrated.defineView(ViewDefinition(name: "v", group: "g", indexedPaths: ["$.n"]))
            try await ViewStoreTests.save(migrated, [ViewStoreTests.put("a", #"{"n":1}"#)])
            #expect(try ViewStoreTests.documents(migrated) == ["a": #"{"n":1}"#])
            await migrated.close()
            #expect(try SchemaMigrationTests.sqlite(fixture.databasePath, "PRAGMA user_version") == "6")
        }
    }
}
