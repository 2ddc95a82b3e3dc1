internal import Foundation
@testable internal import LogbookStorage
internal import Logging
internal import Testing

/// A temporary data directory and the stores opened on it, removed afterwards.
///
/// Every test gets a directory of its own, so tests run in parallel without sharing
/// a database.
struct StoreFixture {
    let directory: String

    var databasePath: String { directory + "/" + EventStore.databaseFileName }

    static let logger = Logger(label: "logbook.storage.tests") { _ in SwiftLogNoOpLogHandler() }

    /// The engine the tests run on: `LOGBOOK_TEST_ENGINE` (`log` or `sqlite`; the
    /// test script runs the suite once with each), else the default for new directories.
    static let engine: StorageEngine = ProcessInfo.processInfo.environment["LOGBOOK_TEST_ENGINE"]
        .flatMap(StorageEngine.init(rawValue:)) ?? .defaultForNewDirectories

    /// Runs `body` with a fresh directory, removing it afterwards.
    static func with<T>(_ body: (StoreFixture) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("logbook-storage-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await body(StoreFixture(directory: directory))
    }

    /// Runs `body` with a store open on a fresh directory, closing it afterwards.
    static func withStore<T>(
        sync: SyncMode = .normal,
        maxPageCount: Int? = nil,
        indexing: IndexingPolicy = .standard,
        engine: StorageEngine = StoreFixture.engine,
        _ body: (EventStore) async throws -> T
    ) async throws -> T {
        try await with { fixture in
            let store = try fixture.open(sync: sync, maxPageCount: maxPageCount, indexing: indexing, engine: engine)
            do {
                let result = try await body(store)
                await store.close()
                return result
            } catch {
                await store.close()
                throw error
            }
        }
    }

    func open(
        sync: SyncMode = .normal, maxPageCount: Int? = nil, indexing: IndexingPolicy = .standard,
        engine: StorageEngine = StoreFixture.engine, streamsCached: Int = StorageLimits.streamsCachedMax
    ) throws -> EventStore {
        try EventStore(
            directory: directory, sync: sync, logger: Self.logger, maxPageCount: maxPageCount, indexing: indexing,
            engine: engine, streamsCached: streamsCached)
    }
}

extension IndexingPolicy {
    /// Indexes once `batchEvents` events wait, and never when idle, at open or at close,
    /// so a test knows where the indexed part of the log ends.
    static func pinned(batchEvents: Int) -> IndexingPolicy {
        IndexingPolicy(batchEvents: batchEvents, indexesWhenIdle: false)
    }

    /// The indexed position once the writer is done with the catch-up that follows
    /// the last commit: an append returns at its commit, before that catch-up ran.
    static func settledIndexedUpTo(_ store: EventStore, expecting expected: UInt64) async throws -> UInt64 {
        let deadline = ContinuousClock.now + .seconds(5)
        while store.indexedUpTo != expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        return store.indexedUpTo
    }

    /// Never indexes: every read by type, category or correlation id scans `events`.
    static let never = IndexingPolicy.pinned(batchEvents: .max)
}

/// Small builders that keep the tests about behaviour, not about constructing values.
enum Make {
    static func event(
        _ type: String = "Happened",
        data: String = "{}",
        id: EventID? = nil,
        metadata: [MetadataEntry] = [],
        correlationID: String = ""
    ) -> ProposedEvent {
        ProposedEvent(
            id: id, type: type, data: Array(data.utf8), metadata: metadata, correlationID: correlationID)
    }

    static func events(_ count: Int, type: String = "Happened") -> [ProposedEvent] {
        (0..<count).map { event(type, data: "{\"n\":\($0)}") }
    }

    static func write(_ stream: String, _ expected: ExpectedRevision = .any, _ events: [ProposedEvent]) -> StreamWrite {
        StreamWrite(stream: stream, expected: expected, events: events)
    }

    /// The positions 1…count (empty for 0), as a gapless log has them.
    static func positions(_ count: Int) -> [UInt64] {
        (0..<UInt64(count)).map { $0 + 1 }
    }

    /// Every event of `stream`, forwards.
    static func readStream(_ store: EventStore, _ stream: String) throws -> [RecordedEvent] {
        try store.read(ReadRequest(selector: .stream(stream), limit: StorageLimits.readBatchEventsMax))
    }

    /// The whole log, forwards, paging through it.
    static func readAll(_ store: EventStore) throws -> [RecordedEvent] {
        var events = [RecordedEvent]()
        var start = ReadStart.start
        while true {
            let batch = try store.read(ReadRequest(selector: .all, start: start, limit: 1_000))
            events += batch
            guard let last = batch.last, batch.count == 1_000 else { return events }
            start = .position(last.position + 1)
        }
    }
}
