internal import Foundation
@testable internal import LogbookStorage
internal import Synchronization
internal import Testing

/// The read indexes by type, category and correlation id are filled behind the
/// commits; reads must not tell the difference, whatever the catch-up has reached.
@Suite struct SecondaryIndexTests {
    /// 300 events over 3 categories, 4 types and 5 correlation ids (some without one).
    static func populate(_ store: EventStore) async throws {
        for index in 0..<100 {
            var events = [ProposedEvent]()
            for offset in 0..<3 {
                let n = index * 3 + offset
                events.append(Make.event("T\(n % 4)", data: "{\"n\":\(n)}", correlationID: n % 6 == 0 ? "" : "c\(n % 5)"))
            }
            _ = try await store.append([Make.write("cat\(index % 3)-\(index % 7)", .any, events)])
        }
    }

    static let selectors: [Selector] = [
        .category("cat0"), .category("cat2"), .eventType("T1"), .eventType("T3"), .correlationID("c2"), .correlationID("c0"),
    ]

    /// Every event of `selector`, read forwards then backwards in pages of 7.
    static func readPaged(_ store: EventStore, _ selector: Selector, asOf: UInt64? = nil) throws -> (
        forwards: [RecordedEvent], backwards: [RecordedEvent]
    ) {
        var forwards = [RecordedEvent]()
        var start = ReadStart.start
        while case let batch = try store.read(ReadRequest(selector: selector, start: start, limit: 7, asOfPosition: asOf)),
              let last = batch.last {
            forwards += batch
            start = .position(last.position + 1)
        }
        var backwards = [RecordedEvent]()
        start = .end
        while case let batch = try store.read(
            ReadRequest(selector: selector, start: start, direction: .backwards, limit: 7, asOfPosition: asOf)),
              let last = batch.last {
            backwards += batch
            guard last.position > 1 else { break }
            start = .position(last.position - 1)
        }
        return (forwards, backwards)
    }

    /// What `selector` covers, worked out from `$all` (which no index table serves).
    static func expected(_ all: [RecordedEvent], _ selector: Selector) -> [RecordedEvent] {
        all.filter { event in
            switch selector {
            case .category(let name): event.stream.hasPrefix(name + "-")
            case .eventType(let name): event.type == name
            case .correlationID(let id): event.correlationID == id
            case .stream, .all: false
            }
        }
    }

    @Test func reopenIndexesWhatTheLastRunLeftUnindexed() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open(indexing: .never)
            try await Self.populate(store)
            #expect(store.indexedUpTo == 0)
            let all = try Make.readAll(store)
            for selector in Self.selectors {
                #expect(try Self.readPaged(store, selector).forwards == Self.expected(all, selector), "\(selector)")
            }
            await store.close()

            // Reopened without catch-up, the whole log is the un-indexed tail.
            let unindexed = try fixture.open(indexing: .never)
            #expect(unindexed.indexedUpTo == 0)
            #expect(try Self.readPaged(unindexed, .eventType("T1")).forwards == Self.expected(all, .eventType("T1")))
            await unindexed.close()

            let reopened = try fixture.open()
            #expect(reopened.indexedUpTo == 300)
            #expect(try Make.readAll(reopened) == all)
            for selector in Self.selectors {
                let read = try Self.readPaged(reopened, selector)
                let expected = Self.expected(all, selector)
                #expect(!expected.isEmpty)
                #expect(read.forwards == expected, "\(selector)")
                #expect(read.backwards == expected.reversed(), "\(selector)")
            }
            await reopened.close()
        }
    }

    @Test func indexingResumesFromWhereItStopped() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open(indexing: .pinned(batchEvents: 100))
            try await Self.populate(store)
            let all = try Make.readAll(store)
            await store.close()
            // 3 events per commit: the SQLite engine catches up at 102 and 204 and leaves
            // 96 un-indexed. The log engine's indexer stores commits in batches of its
            // own timing (when idle it may store and index all 300 at once), so its
            // boundary is only known once the store is closed.
            let stopped = store.indexedUpTo
            if StoreFixture.engine == .sqlite { #expect(stopped == 204) }
            #expect(stopped <= 300)

            let reopened = try fixture.open(indexing: .pinned(batchEvents: 100))
            #expect(reopened.indexedUpTo == stopped)
            _ = try await reopened.append([Make.write("cat0-x", .any, Make.events(100, type: "T1"))])
            #expect(try await IndexingPolicy.settledIndexedUpTo(reopened, expecting: 400) == 400)
            let appended = try Make.readAll(reopened)
            #expect(Array(appended.prefix(300)) == all)
            for selector in Self.selectors {
                let read = try Self.readPaged(reopened, selector)
                let expected = Self.expected(appended, selector)
                #expect(read.forwards == expected, "\(selector)")
                #expect(read.backwards == expected.reversed(), "\(selector)")
                for asOf in [1, 150, 204, 205, 250] as [UInt64] {
                    let old = try Self.readPaged(reopened, selector, asOf: asOf)
                    let expectedOld = expected.filter { $0.position <= asOf }
                    #expect(old.forwards == expectedOld, "\(selector) as of \(asOf)")
                    #expect(old.backwards == expectedOld.reversed(), "\(selector) as of \(asOf)")
                }
            }
            await reopened.close()
        }
    }

    /// Catch-up at open needs pages; a full disk postpones it instead of refusing to
    /// open, and reads stay complete by scanning the tail. (The page limit fills the
    /// SQLite engine's database; the log engine's full disk is tested end to end.)
    @Test func fullDiskAtOpenPostponesTheCatchUp() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open(maxPageCount: 60, indexing: .never, engine: .sqlite)
            fill: for index in 0..<1_000 {
                let events = (0..<50).map { Make.event("T\($0 % 4)", correlationID: "c\($0 % 5)") }
                do {
                    _ = try await store.append([Make.write("cat\(index % 3)-1", .any, events)])
                } catch let error as StorageError where error.code == .diskFull {
                    break fill
                }
            }
            let all = try Make.readAll(store)
            #expect(all.count > 500)
            await store.close()

            // A little room (GRDB needs a page to open), too little for the index rows.
            let reopened = try fixture.open(maxPageCount: 62, engine: .sqlite)
            #expect(reopened.indexedUpTo < reopened.headPosition)
            for selector in Self.selectors {
                let read = try Self.readPaged(reopened, selector)
                #expect(read.forwards == Self.expected(all, selector), "\(selector)")
                #expect(read.backwards == Self.expected(all, selector).reversed(), "\(selector)")
            }
            await reopened.close()
        }
    }

    /// Readers race the writer and its catch-ups (every 5 events, and when idle): each
    /// read, as of the head it saw, returns exactly the events up to that head.
    @Test func catchUpNeverShowsAGapOrADuplicate() async throws {
        let indexing = IndexingPolicy(batchEvents: 5, indexesWhenIdle: true)
        try await StoreFixture.withStore(indexing: indexing) { store in
            let done = DoneFlag()
            let observations = try await withThrowingTaskGroup(
                of: [(UInt64, Selector, [UInt64], [UInt64])].self
            ) { group in
                group.addTask {
                    defer { done.value.store(true, ordering: .releasing) }
                    for index in 0..<200 {
                        let events = (0..<(1 + index % 3)).map {
                            Make.event("T\(($0 + index) % 4)", correlationID: "c\(index % 5)")
                        }
                        _ = try await store.append([Make.write("cat\(index % 3)-\(index % 7)", .any, events)])
                        if index % 50 == 0 { try await Task.sleep(for: .milliseconds(40)) }
                    }
                    return []
                }
                for reader in 0..<2 {
                    group.addTask {
                        var seen = [(UInt64, Selector, [UInt64], [UInt64])]()
                        var round = 0
                        while !done.value.load(ordering: .acquiring) {
                            let selector = Self.selectors[(round + reader) % Self.selectors.count]
                            round += 1
                            let head = store.headPosition
                            let read = try Self.readPaged(store, selector, asOf: head)
                            seen.append((head, selector, read.forwards.map(\.position), read.backwards.map(\.position)))
                            await Task.yield()
                        }
                        return seen
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let all = try Make.readAll(store)
            #expect(all.map(\.position) == Make.positions(all.count))
            #expect(observations.count > 10)
            for (head, selector, forwards, backwards) in observations {
                let expected = Self.expected(all, selector).map(\.position).filter { $0 <= head }
                #expect(forwards == expected, "\(selector) as of \(head)")
                #expect(backwards == expected.reversed(), "\(selector) as of \(head)")
            }
        }
    }
}

/// Tells the readers the appender has finished; a class so tasks can share it.
private final class DoneFlag: Sendable {
    let value = Atomic(false)
}

/// A version-1 database (secondary indexes on `events`) is migrated at open. Built
/// from a current one with the `sqlite3` shell, which is why the test needs it.
@Suite struct SchemaMigrationTests {
    static let sqlite3 = "/usr/bin/sqlite3"

    /// Takes a current database back to version 5's (no stream lifecycle).
    static let versionFive = """
        DROP TABLE stream_lifecycle;
        """

    /// Takes a current database's `streams` back to version 4's (no lookup keys, no
    /// lifecycle); the older versions' tests start with it too.
    static let versionFourStreams = versionFive + """
        DROP INDEX streams_lookup_key; ALTER TABLE streams DROP COLUMN lookup_key;
        """

    static func sqlite(_ path: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sqlite3)
        process.arguments = [path, sql]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "sqlite3 \(sql)")
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: sqlite3)))
    func versionOneIsMigratedAndIndexed() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open()
            try await SecondaryIndexTests.populate(store)
            let all = try Make.readAll(store)
            await store.close()
            _ = try Self.sqlite(fixture.databasePath, """
                \(Self.versionFourStreams)
                DROP TABLE events_by_type; DROP TABLE events_by_category; DROP TABLE events_by_correlation;
                DROP TABLE index_state;
                DROP TABLE groups; DROP TABLE group_progress; DROP TABLE group_settled; DROP TABLE group_parked;
                DROP TABLE views;
                CREATE INDEX events_type_position ON events(type_id, position);
                CREATE INDEX events_category_position ON events(category_id, position);
                CREATE INDEX events_correlation_position ON events(correlation_id, position) WHERE correlation_id <> '';
                PRAGMA user_version = 1;
                """)

            let migrated = try fixture.open()
            #expect(migrated.indexedUpTo == 300)
            #expect(try Make.readAll(migrated) == all)
            for selector in SecondaryIndexTests.selectors {
                let read = try SecondaryIndexTests.readPaged(migrated, selector)
                let expected = SecondaryIndexTests.expected(all, selector)
                #expect(read.forwards == expected, "\(selector)")
                #expect(read.backwards == expected.reversed(), "\(selector)")
            }
            await migrated.close()
            #expect(try Self.sqlite(fixture.databasePath, "PRAGMA user_version") == "6")
            let indexes = try Self.sqlite(
                fixture.databasePath, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name")
            #expect(indexes == "events_event_id\nevents_stream_revision")
            #expect(try Self.sqlite(fixture.databasePath, "SELECT COUNT(*) FROM events_by_type") == "300")
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: sqlite3)))
    func versionFiveGetsTheLifecycleTable() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open()
            _ = try await store.append([Make.write("order-1", .any, Make.events(5))])
            let all = try Make.readAll(store)
            await store.close()
            _ = try Self.sqlite(fixture.databasePath, Self.versionFive + "PRAGMA user_version = 5;")
            let migrated = try fixture.open()
            #expect(try Make.readAll(migrated) == all)
            await migrated.close()
            #expect(try Self.sqlite(fixture.databasePath, "PRAGMA user_version") == "6")
            #expect(try Self.sqlite(fixture.databasePath, "SELECT COUNT(*) FROM stream_lifecycle") == "0")
        }
    }
}
