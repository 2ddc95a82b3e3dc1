internal import Foundation
@testable internal import LogbookStorage
internal import Testing

/// Persistent subscription groups in the store: definitions, durable progress, parked
/// events, and their writes sharing group commits with appends.
@Suite struct GroupStoreTests {
    static func definition(_ name: String, _ selector: Selector = .all, start: GroupStart = .start) -> GroupDefinition {
        GroupDefinition.fixture(name, selector, start: start)
    }

    static func code(_ body: () async throws -> Void) async -> StorageError.Code? {
        do {
            try await body()
            return nil
        } catch {
            return (error as? StorageError)?.code ?? StorageError.Code.internalError
        }
    }

    @Test func createListGetUpdateDelete() async throws {
        try await StoreFixture.withStore { store in
            let orders = GroupDefinition(
                name: "orders", selector: .category("order"), start: .start,
                filter: ReadFilter(eventTypes: ["Placed", "Paid"], streamPrefix: "order-1"),
                strategy: .roundRobin, maxInFlight: 8, ackTimeoutMilliseconds: 1_500, maxDeliveries: 3,
                retryBackoffMilliseconds: 50)
            let audit = Self.definition("audit", .eventType("Audited"), start: .end)
            #expect(try await store.createGroup(orders) == 0)
            #expect(try await store.createGroup(audit) == 0)
            #expect(await Self.code { _ = try await store.createGroup(Self.definition("orders")) } == .groupExists)

            let listed = try store.groups()
            #expect(listed.map(\.definition) == [audit, orders])
            let stored = try #require(try store.group("orders"))
            #expect(stored.definition == orders)
            #expect(stored.checkpoint == 0)
            #expect(stored.settled == [])
            #expect(stored.parkedCount == 0)
            #expect(stored.createdMicros > 0)
            #expect(try store.group("missing") == nil)

            var changed = orders
            changed.strategy = .single
            changed.maxInFlight = 100
            changed.ackTimeoutMilliseconds = 9_000
            changed.maxDeliveries = 7
            changed.retryBackoffMilliseconds = 1
            try await store.updateGroup(changed)
            #expect(try store.group("orders")?.definition == changed)
            #expect(try store.group("orders")?.createdMicros == stored.createdMicros)

            var moved = changed
            moved.selector = .all
            #expect(await Self.code { try await store.updateGroup(moved) } == .invalidArgument)
            var refiltered = changed
            refiltered.filter = ReadFilter()
            #expect(await Self.code { try await store.updateGroup(refiltered) } == .invalidArgument)
            #expect(try store.group("orders")?.definition == changed)
            #expect(await Self.code { try await store.updateGroup(Self.definition("missing")) } == .notFound)

            try await store.deleteGroup("orders")
            #expect(try store.group("orders") == nil)
            #expect(try store.groups().map(\.definition.name) == ["audit"])
            #expect(await Self.code { try await store.deleteGroup("orders") } == .notFound)
            #expect(await Self.code { try await store.saveGroupProgress("orders", checkpoint: 1, settled: [], parked: [], unparked: []) } == .notFound)
            #expect(await Self.code { try await store.resetGroup("orders", to: nil) } == .notFound)
            #expect(throws: StorageError.self) { try store.parkedCount("orders") }
            #expect(throws: StorageError.self) { try store.parkedEvents("orders", after: 0, limit: 10) }
        }
    }

    @Test(arguments: ["", "$system", String(repeating: "g", count: 257), String(repeating: "é", count: 129)])
    func invalidNamesAreRefused(name: String) async throws {
        try await StoreFixture.withStore { store in
            #expect(await Self.code { _ = try await store.createGroup(Self.definition(name)) } == .invalidArgument)
            let groups = try store.groups()
            #expect(groups.isEmpty)
        }
    }

    @Test func invalidDefinitionsAreRefused() async throws {
        try await StoreFixture.withStore { store in
            let longest = String(repeating: "g", count: StorageLimits.groupNameBytesMax)
            let checkpoint = try await store.createGroup(Self.definition(longest))
            #expect(checkpoint == 0)
            var bad = [GroupDefinition]()
            bad.append(Self.definition("a", .stream("")))
            bad.append(Self.definition("b", start: .position(UInt64(Int64.max) + 1)))
            var zero = Self.definition("c")
            zero.maxInFlight = 0
            bad.append(zero)
            var noTimeout = Self.definition("d")
            noTimeout.ackTimeoutMilliseconds = 0
            bad.append(noTimeout)
            for definition in bad {
                #expect(await Self.code { _ = try await store.createGroup(definition) } == .invalidArgument, "\(definition)")
            }
            #expect(try store.groups().map(\.definition.name) == [longest])
            #expect(throws: StorageError.self) { try store.parkedEvents(longest, after: 0, limit: 0) }
        }
    }

    @Test func initialCheckpointFollowsTheStart() async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.append([Make.write("a-1", .any, Make.events(10))])
            #expect(try await store.createGroup(Self.definition("from-start", start: .start)) == 0)
            #expect(try await store.createGroup(Self.definition("from-end", start: .end)) == 10)
            #expect(try await store.createGroup(Self.definition("from-4", start: .position(4))) == 3)
            #expect(try await store.createGroup(Self.definition("from-0", start: .position(0))) == 0)
            #expect(try await store.createGroup(Self.definition("from-future", start: .position(50))) == 49)
            let checkpoints = try store.groups().map { ($0.definition.name, $0.checkpoint) }
            #expect(checkpoints.map(\.0) == ["from-0", "from-4", "from-end", "from-future", "from-start"])
            #expect(checkpoints.map(\.1) == [0, 3, 10, 49, 0])
            #expect(try store.group("from-4")?.definition.start == .position(4))
        }
    }

    @Test func progressIsMonotonicAndSurvivesReopen() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open(sync: .full)
            _ = try await store.append([Make.write("a-1", .any, Make.events(20))])
            _ = try await store.createGroup(Self.definition("g"))
            #expect(try await store.saveGroupProgress("g", checkpoint: 3, settled: [5, 7, 3, 2], parked: [], unparked: []) == 3)
            #expect(try store.group("g")?.settled == [5, 7])
            // A lower checkpoint (a late save) is ignored; its settled positions still count.
            #expect(try await store.saveGroupProgress("g", checkpoint: 2, settled: [9], parked: [], unparked: []) == 3)
            var group = try #require(try store.group("g"))
            #expect(group.checkpoint == 3)
            #expect(group.settled == [5, 7, 9])
            // Moving the checkpoint drops the settled rows it passes.
            #expect(try await store.saveGroupProgress("g", checkpoint: 7, settled: [12, 8], parked: [], unparked: []) == 7)
            group = try #require(try store.group("g"))
            #expect(group.checkpoint == 7)
            #expect(group.settled == [8, 9, 12])
            await store.close()

            let reopened = try fixture.open(sync: .full)
            let again = try #require(try reopened.group("g"))
            #expect(again == group)
            #expect(try await reopened.saveGroupProgress("g", checkpoint: 10, settled: [], parked: [], unparked: []) == 10)
            #expect(try reopened.group("g")?.settled == [12])
            await reopened.close()
        }
    }

    /// A save that cannot be written whole (the disk fills up half-way) leaves nothing of
    /// itself behind, and the store goes on working.
    @Test func aProgressSaveIsAllOrNothing() async throws {
        try await StoreFixture.withStore(maxPageCount: 80) { store in
            _ = try await store.append([Make.write("a-1", .any, Make.events(10))])
            _ = try await store.createGroup(Self.definition("g"))
            _ = try await store.saveGroupProgress("g", checkpoint: 2, settled: [4], parked: [], unparked: [])
            // Far more rows than the 80-page limit holds, after a park that fits.
            let settled = (0..<60_000).map { UInt64(100 + $0) }
            let code = await Self.code {
                try await store.saveGroupProgress(
                    "g", checkpoint: 5, settled: settled,
                    parked: [ParkedRecord(position: 3, reason: "r", attempts: 1)], unparked: [])
            }
            #expect(code == .diskFull)
            let group = try #require(try store.group("g"))
            #expect(group.checkpoint == 2)
            #expect(group.settled == [4])
            #expect(group.parkedCount == 0)
            #expect(try await store.saveGroupProgress("g", checkpoint: 5, settled: [6, 7], parked: [], unparked: []) == 5)
        }
    }

    @Test func parkedEventsPageJoinedWithTheirEvents() async throws {
        try await StoreFixture.withStore { store in
            for index in 0..<30 {
                _ = try await store.append([Make.write("s-\(index % 4)", .any, [
                    Make.event("T\(index % 3)", data: "{\"i\":\(index)}", metadata: [MetadataEntry(key: "k", value: "\(index)")]),
                ])])
            }
            let all = try Make.readAll(store)
            _ = try await store.createGroup(Self.definition("g"))
            let positions: [UInt64] = [3, 7, 11, 15, 20]
            let long = String(repeating: "ü", count: StorageLimits.parkReasonBytesMax)
            _ = try await store.saveGroupProgress(
                "g", checkpoint: 0, settled: [],
                parked: positions.map { ParkedRecord(position: $0, reason: $0 == 20 ? long : "bad \($0)", attempts: UInt32($0)) },
                unparked: [])
            #expect(try store.parkedCount("g") == 5)
            #expect(try store.group("g")?.parkedCount == 5)

            var pages = [[UInt64]]()
            var after: UInt64 = 0
            var listed = [ParkedEvent]()
            while true {
                let page = try store.parkedEvents("g", after: after, limit: 2)
                guard let last = page.last else { break }
                pages.append(page.map(\.event.position))
                listed += page
                after = last.event.position
            }
            #expect(pages == [[3, 7], [11, 15], [20]])
            #expect(listed.map(\.event) == positions.map { all[Int($0) - 1] })
            #expect(listed.prefix(4).map(\.reason) == positions.prefix(4).map { "bad \($0)" })
            #expect(listed.last?.reason.utf8.count ?? 0 <= StorageLimits.parkReasonBytesMax)
            #expect(listed.last?.reason.allSatisfy { $0 == "ü" } == true)
            #expect(listed.map(\.attempts) == positions.map { UInt32($0) })
            #expect(listed.allSatisfy { $0.parkedMicros > 0 })
            #expect(try store.parkedEvents("g", after: 20, limit: 10).isEmpty)

            // Only events in the log can be parked; the save fails whole.
            let beyond = await Self.code {
                try await store.saveGroupProgress(
                    "g", checkpoint: 9, settled: [12],
                    parked: [ParkedRecord(position: 31, reason: "x", attempts: 1)], unparked: [3])
            }
            #expect(beyond == .invalidArgument)
            #expect(try store.group("g")?.checkpoint == 0)
            #expect(try store.group("g")?.settled == [])
            #expect(try store.parkedCount("g") == 5)

            // Parking again replaces; unparking removes; within one save, park then unpark.
            _ = try await store.saveGroupProgress(
                "g", checkpoint: 0, settled: [],
                parked: [ParkedRecord(position: 3, reason: "again", attempts: 9), ParkedRecord(position: 25, reason: "x", attempts: 1)],
                unparked: [7, 15, 25])
            let left = try store.parkedEvents("g", after: 0, limit: 100)
            #expect(left.map(\.event.position) == [3, 11, 20])
            #expect(left.first?.reason == "again")
            #expect(left.first?.attempts == 9)
            #expect(try store.parkedCount("g") == 3)
        }
    }

    @Test func resetMovesTheCheckpointAndKeepsParked() async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.append([Make.write("a-1", .any, Make.events(10))])
            #expect(try await store.createGroup(Self.definition("g", start: .end)) == 10)
            _ = try await store.append([Make.write("a-1", .any, Make.events(10))])
            _ = try await store.saveGroupProgress(
                "g", checkpoint: 15, settled: [17, 18],
                parked: [ParkedRecord(position: 16, reason: "r", attempts: 2)], unparked: [])

            #expect(try await store.resetGroup("g", to: 12) == 12)
            var group = try #require(try store.group("g"))
            #expect(group.checkpoint == 12)
            #expect(group.settled == [])
            #expect(group.parkedCount == 1)

            _ = try await store.saveGroupProgress("g", checkpoint: 14, settled: [19], parked: [], unparked: [])
            #expect(try await store.resetGroup("g", to: nil) == 10)
            group = try #require(try store.group("g"))
            #expect(group.checkpoint == 10)
            #expect(group.settled == [])
            #expect(try store.parkedEvents("g", after: 0, limit: 10).map(\.event.position) == [16])
        }
    }

    @Test func deletingAGroupLeavesOthersUntouched() async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.append([Make.write("a-1", .any, Make.events(10))])
            for name in ["one", "two", "three"] {
                _ = try await store.createGroup(Self.definition(name))
                _ = try await store.saveGroupProgress(
                    name, checkpoint: 2, settled: [4, 6],
                    parked: [ParkedRecord(position: 3, reason: name, attempts: 1), ParkedRecord(position: 5, reason: name, attempts: 1)],
                    unparked: [])
            }
            let before = try store.groups().filter { $0.definition.name != "two" }
            let parkedBefore = try store.parkedEvents("three", after: 0, limit: 10)
            try await store.deleteGroup("two")
            #expect(try store.groups() == before)
            #expect(try store.parkedEvents("three", after: 0, limit: 10) == parkedBefore)

            // A group created again under the name starts afresh.
            _ = try await store.createGroup(Self.definition("two"))
            let fresh = try #require(try store.group("two"))
            #expect(fresh.checkpoint == 0)
            #expect(fresh.settled == [])
            #expect(fresh.parkedCount == 0)
        }
    }

    /// Group writes share the appends' group commits: all of them commit, and the
    /// appends around them keep the log gap-free.
    @Test func groupWritesInterleaveWithConcurrentAppends() async throws {
        let writers = 8
        let appendsPerWriter = 200
        let saves = 200
        try await StoreFixture.with { fixture in
            let store = try fixture.open(sync: .full)
            _ = try await store.createGroup(Self.definition("g"))
            let appended = try await withThrowingTaskGroup(of: Int.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        var count = 0
                        for index in 0..<appendsPerWriter {
                            let result = try await store.append([Make.write("w-\(writer)", .any, Make.events(1 + index % 2))])
                            count += result.streams[0].positions.count
                        }
                        return count
                    }
                }
                group.addTask {
                    for index in 1...saves {
                        let position = UInt64(index)
                        let parked = index % 10 == 0 ? [ParkedRecord(position: position, reason: "p", attempts: 1)] : []
                        let stored = try await store.saveGroupProgress(
                            "g", checkpoint: position, settled: [position + 2], parked: parked, unparked: [])
                        #expect(stored == position)
                        if index % 50 == 0 {
                            _ = try await store.createGroup(Self.definition("end-\(index)", start: .end))
                        }
                    }
                    return 0
                }
                return try await group.reduce(0, +)
            }
            let all = try Make.readAll(store)
            #expect(all.map(\.position) == Make.positions(appended))
            #expect(store.headPosition == UInt64(appended))
            let group = try #require(try store.group("g"))
            #expect(group.checkpoint == UInt64(saves))
            #expect(group.settled == [UInt64(saves) + 1, UInt64(saves) + 2])
            #expect(group.parkedCount == UInt64(saves / 10))
            for index in stride(from: 50, through: saves, by: 50) {
                let checkpoint = try #require(try store.group("end-\(index)")?.checkpoint)
                #expect(checkpoint <= UInt64(appended))
            }
            await store.close()

            let reopened = try fixture.open()
            #expect(try reopened.group("g") == group)
            #expect(try Make.readAll(reopened).count == appended)
            await reopened.close()
        }
    }

    /// A group write that fails (no such group) rolls back alone: the appends and good
    /// group writes committed in the same batches are unaffected.
    @Test func aFailingGroupWriteDoesNotFailItsBatch() async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.createGroup(Self.definition("g"))
            let codes = await withTaskGroup(of: (Int, StorageError.Code?).self) { group in
                for index in 0..<300 {
                    group.addTask {
                        let code = await Self.code {
                            switch index % 3 {
                            case 0: _ = try await store.append([Make.write("s-\(index % 5)", .any, Make.events(2))])
                            case 1: try await store.saveGroupProgress("missing", checkpoint: 1, settled: [], parked: [], unparked: [])
                            default: try await store.saveGroupProgress("g", checkpoint: 0, settled: [UInt64(index)], parked: [], unparked: [])
                            }
                        }
                        return (index, code)
                    }
                }
                return await group.reduce(into: [Int: StorageError.Code?]()) { $0[$1.0] = $1.1 }
            }
            for (index, code) in codes {
                #expect(code == (index % 3 == 1 ? .notFound : nil), "write \(index)")
            }
            #expect(try Make.readAll(store).map(\.position) == Make.positions(200))
            let settled = try #require(try store.group("g")).settled
            #expect(settled == stride(from: 2, to: 300, by: 3).map { UInt64($0) })
        }
    }

    @Test func aClosedStoreRefusesGroupWrites() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open()
            _ = try await store.createGroup(Self.definition("g"))
            await store.close()
            #expect(await Self.code { _ = try await store.createGroup(Self.definition("h")) } == .stopped)
            #expect(await Self.code { try await store.saveGroupProgress("g", checkpoint: 1, settled: [], parked: [], unparked: []) } == .stopped)
            #expect(throws: StorageError.self) { try store.groups() }
        }
    }
}

/// A stored strategy is one of `GroupStrategy`'s spellings; any other is damage, reported
/// as such and never read as a default.
@Suite struct GroupStrategyStorageTests {
    @Test func strategiesAreStoredByTheirRawValue() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open()
            for strategy in GroupStrategy.allCases {
                var definition = GroupStoreTests.definition(strategy.rawValue)
                definition.strategy = strategy
                _ = try await store.createGroup(definition)
            }
            #expect(try store.groups().map(\.definition.strategy) == [.byStream, .roundRobin, .single])
            await store.close()
            guard FileManager.default.isExecutableFile(atPath: SchemaMigrationTests.sqlite3) else { return }
            let stored = try SchemaMigrationTests.sqlite(fixture.databasePath, "SELECT strategy FROM groups ORDER BY name")
            #expect(stored == "by_stream\nround_robin\nsingle")
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: SchemaMigrationTests.sqlite3)))
    func anUnknownStoredStrategyIsReportedAsCorrupt() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open()
            _ = try await store.createGroup(GroupStoreTests.definition("g"))
            await store.close()
            _ = try SchemaMigrationTests.sqlite(fixture.databasePath, "UPDATE groups SET strategy = 'by-stream'")

            let reopened = try fixture.open()
            let error = #expect(throws: StorageError.self) { try reopened.group("g") }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("by-stream") == true)
            await reopened.close()
        }
    }
}

/// A version-2 database (no group tables) gains them at open, keeping its events.
@Suite struct GroupSchemaMigrationTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: SchemaMigrationTests.sqlite3)))
    func versionTwoIsMigrated() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open()
            _ = try await store.append([Make.write("order-1", .any, Make.events(25))])
            let all = try Make.readAll(store)
            await store.close()
            _ = try SchemaMigrationTests.sqlite(fixture.databasePath, """
                \(SchemaMigrationTests.versionFourStreams)
                DROP TABLE groups; DROP TABLE group_progress; DROP TABLE group_settled; DROP TABLE group_parked;
                DROP TABLE views;
                PRAGMA user_version = 2;
                """)
            #expect(try SchemaMigrationTests.sqlite(fixture.databasePath, "PRAGMA user_version") == "2")

            let migrated = try fixture.open()
            #expect(try Make.readAll(migrated) == all)
            #expect(try migrated.groups().isEmpty)
            #expect(try await migrated.createGroup(GroupStoreTests.definition("g", start: .end)) == 25)
            _ = try await migrated.saveGroupProgress(
                "g", checkpoint: 25, settled: [], parked: [ParkedRecord(position: 3, reason: "r", attempts: 1)], unparked: [])
            await migrated.close()
            #expect(try SchemaMigrationTests.sqlite(fixture.databasePath, "PRAGMA user_version") == "6")
            let tables = try SchemaMigrationTests.sqlite(
                fixture.databasePath, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'group%' ORDER BY name")
            #expect(tables == "group_parked\ngroup_progress\ngroup_settled\ngroups")

            let reopened = try fixture.open()
            #expect(try reopened.group("g")?.checkpoint == 25)
            #expect(try reopened.parkedEvents("g", after: 0, limit: 10).map(\.event) == [all[2]])
            await reopened.close()
        }
    }
}

/// The writer's queue carries appends and group writes in one enum; a group write is a
/// reference so an append is queued in no more space than before.
@Suite struct PendingWriteLayoutTests {
    @Test func aQueuedAppendTakesNoMoreSpaceThanBefore() {
        #expect(MemoryLayout<PendingWrite>.size <= MemoryLayout<PendingAppend>.size + 1)
        #expect(MemoryLayout<PendingWrite>.stride == MemoryLayout<PendingAppend>.stride)
    }
}
