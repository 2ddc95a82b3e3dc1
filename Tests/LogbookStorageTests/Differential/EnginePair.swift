internal import Foundation
@testable internal import LogbookStorage
internal import Synchronization

/// A log-engine store and a SQLite-engine store, each on a data directory of its own,
/// given the same work so their answers can be compared (the SQLite engine is the
/// reference, DESIGN.md §4).
final class EnginePair {
    let logDirectory: String
    let sqliteDirectory: String
    private(set) var log: EventStore
    private(set) var sqlite: EventStore
    let logSegmentBytes: Int64
    let sync: SyncMode

    /// The log engine's segment size unless a test asks for another: the smallest
    /// allowed, so a run of a few hundred appends crosses many segment rolls and commits
    /// that a segment's sync reach splits.
    static let smallSegmentBytes: Int64 = 16 * 1024

    /// The streams each of the log store's threads keeps in memory: so few that nearly
    /// every append and stream read of a workload looks its stream up in SQLite, with
    /// evictions between them, and still answers as the SQLite engine (which keeps all).
    static let logStreamsCached = 2

    private init(
        logDirectory: String, sqliteDirectory: String, log: EventStore, sqlite: EventStore, logSegmentBytes: Int64,
        sync: SyncMode
    ) {
        self.logDirectory = logDirectory
        self.sqliteDirectory = sqliteDirectory
        self.log = log
        self.sqlite = sqlite
        self.logSegmentBytes = logSegmentBytes
        self.sync = sync
    }

    /// Runs `body` with both stores open on fresh directories; closes and removes them after.
    static func with<T>(
        sync: SyncMode = .normal, logSegmentBytes: Int64 = smallSegmentBytes, _ body: (EnginePair) async throws -> T
    ) async throws -> T {
        try await StoreFixture.with { logFixture in
            try await StoreFixture.with { sqliteFixture in
                let log = try open(logFixture.directory, .log, sync: sync, logSegmentBytes: logSegmentBytes)
                let sqlite: EventStore
                do {
                    sqlite = try open(sqliteFixture.directory, .sqlite, sync: sync, logSegmentBytes: nil)
                } catch {
                    await log.close()
                    throw error
                }
                let pair = EnginePair(
                    logDirectory: logFixture.directory, sqliteDirectory: sqliteFixture.directory, log: log, sqlite: sqlite,
                    logSegmentBytes: logSegmentBytes, sync: sync)
                do {
                    let result = try await body(pair)
                    await pair.close()
                    return result
                } catch {
                    await pair.close()
                    throw error
                }
            }
        }
    }

    private static func open(
        _ directory: String, _ engine: StorageEngine, sync: SyncMode, logSegmentBytes: Int64?
    ) throws -> EventStore {
        try EventStore(
            directory: directory, sync: sync, logger: StoreFixture.logger, maxPageCount: nil, indexing: .standard,
            engine: engine, logSegmentBytes: logSegmentBytes, streamsCached: logStreamsCached)
    }

    func close() async {
        await log.close()
        await sqlite.close()
    }

    /// Opens both stores again on their directories; call `close()` first. (Should the
    /// second open fail, `close()` still closes the first: closing twice is harmless.)
    func reopen() throws {
        log = try Self.open(logDirectory, .log, sync: sync, logSegmentBytes: logSegmentBytes)
        sqlite = try Self.open(sqliteDirectory, .sqlite, sync: sync, logSegmentBytes: nil)
    }

    /// The log store's SQLite database (where its indexer stores the tail).
    var logDatabasePath: String { log.databasePath }

    /// Whether the log store has committed events that its indexer has not stored in
    /// SQLite yet: reads then take them from the in-memory tail.
    var logHasTail: Bool {
        log.published.storedUpTo < log.headPosition
    }

    /// Queues every append on `store` at once, in order, without waiting between them,
    /// so the writer takes several into one group commit; returns the answers in order.
    /// Positions follow the queue's order, so the answers do not depend on how the
    /// writer happened to group them.
    static func pipelined(_ store: EventStore, _ appends: [[StreamWrite]]) async -> [Result<AppendResult, any Error>] {
        let answers = Answers(count: appends.count)
        for (index, writes) in appends.enumerated() {
            store.append(writes) { answers.set(index, $0) }
        }
        return await answers.all()
    }
}

/// The answers of pipelined appends, collected from the writer thread.
private final class Answers: Sendable {
    private struct State {
        var results: [Result<AppendResult, any Error>?]
        var remaining: Int
        var waiter: CheckedContinuation<[Result<AppendResult, any Error>], Never>?
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(results: Array(repeating: nil, count: count), remaining: count))
    }

    func set(_ index: Int, _ result: Result<AppendResult, any Error>) {
        let finished = state.withLock { state -> (CheckedContinuation<[Result<AppendResult, any Error>], Never>, [Result<AppendResult, any Error>])? in
            state.results[index] = result
            state.remaining -= 1
            guard state.remaining == 0, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return (waiter, state.results.compactMap { $0 })
        }
        if let (waiter, results) = finished { waiter.resume(returning: results) }
    }

    func all() async -> [Result<AppendResult, any Error>] {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> [Result<AppendResult, any Error>]? in
                guard state.remaining > 0 else { return state.results.compactMap { $0 } }
                state.waiter = continuation
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }
}

/// An append's answer in the form both engines must agree on: everything but the
/// commit time, which each store takes from its own clock.
///
/// Equal means spelled alike too: `String`'s `==` takes canonically equivalent
/// spellings for one another, and a store that answers in another spelling than the
/// other store does is a difference.
enum AppendOutcome: Equatable, CustomStringConvertible {
    case appended([StreamWriteResult])
    case failed(StorageError.Code, StorageError.Detail?, message: String)

    static func == (left: AppendOutcome, right: AppendOutcome) -> Bool {
        switch (left, right) {
        case (.appended(let left), .appended(let right)):
            left == right && left.map(\.stream).elementsEqual(right.map(\.stream)) { $0.utf8.elementsEqual($1.utf8) }
        case (.failed(let leftCode, let leftDetail, let leftMessage), .failed(let rightCode, let rightDetail, let rightMessage)):
            leftCode == rightCode && leftDetail == rightDetail
                && "\(leftDetail.map { "\($0)" } ?? "")".utf8.elementsEqual("\(rightDetail.map { "\($0)" } ?? "")".utf8)
                && leftMessage.utf8.elementsEqual(rightMessage.utf8)
        default:
            false
        }
    }

    init(_ result: Result<AppendResult, any Error>) {
        switch result {
        case .success(let result):
            self = .appended(result.streams)
        case .failure(let error as StorageError):
            self = .failed(error.code, error.detail, message: error.message)
        case .failure(let error):
            self = .failed(.internalError, nil, message: "not a StorageError: \(error)")
        }
    }

    var code: StorageError.Code? {
        if case .failed(let code, _, _) = self { return code }
        return nil
    }

    var description: String {
        switch self {
        case .appended(let streams):
            "appended " + streams.map { "\($0.stream)@\($0.firstRevision)…\($0.lastRevision) positions \($0.positions)" }
                .joined(separator: ", ")
        case .failed(let code, let detail, let message):
            "\(code) \(detail.map { "\($0)" } ?? "no detail"): \(message)"
        }
    }
}

/// A read's answer in the form both engines must agree on: the events without their
/// commit times, or the error's code and message, every string spelled alike.
enum ReadOutcome: Equatable, CustomStringConvertible {
    case events([RecordedEvent])
    case failed(StorageError.Code, message: String)

    static func == (left: ReadOutcome, right: ReadOutcome) -> Bool {
        switch (left, right) {
        case (.events(let left), .events(let right)):
            left.elementsEqual(right) { $0.isIdentical(to: $1) }
        case (.failed(let leftCode, let leftMessage), .failed(let rightCode, let rightMessage)):
            leftCode == rightCode && leftMessage.utf8.elementsEqual(rightMessage.utf8)
        default:
            false
        }
    }

    init(_ read: () throws -> [RecordedEvent]) {
        do {
            self = .events(try read().map(\.withoutTime))
        } catch let error as StorageError {
            self = .failed(error.code, message: error.message)
        } catch {
            self = .failed(.internalError, message: "not a StorageError: \(error)")
        }
    }

    var events: [RecordedEvent] {
        if case .events(let events) = self { return events }
        return []
    }

    var description: String {
        switch self {
        case .events(let events): "\(events.count) events, positions \(events.map(\.position))"
        case .failed(let code, let message): "\(code): \(message)"
        }
    }

    /// Where two answers part: the first differing event, or the errors.
    static func difference(_ log: ReadOutcome, _ sqlite: ReadOutcome) -> String {
        guard case .events(let logEvents) = log, case .events(let sqliteEvents) = sqlite else {
            return "log: \(log)\nsqlite: \(sqlite)"
        }
        let common = min(logEvents.count, sqliteEvents.count)
        let index = (0..<common).first { !logEvents[$0].isIdentical(to: sqliteEvents[$0]) } ?? common
        func event(_ events: [RecordedEvent]) -> String {
            index < events.count ? "\(events[index]) (strings in UTF-8: \(events[index].stringBytes))" : "none (\(events.count) events)"
        }
        return """
            \(logEvents.count) events from the log engine, \(sqliteEvents.count) from SQLite; first difference at index \(index)
            log:    \(event(logEvents))
            sqlite: \(event(sqliteEvents))
            log positions:    \(logEvents.map(\.position))
            sqlite positions: \(sqliteEvents.map(\.position))
            """
    }
}

extension RecordedEvent {
    /// The event with its commit time zeroed: the one field the two stores do not share.
    var withoutTime: RecordedEvent {
        var event = self
        event.timeMicros = 0
        return event
    }

    /// Equal, with every string spelled in the same bytes.
    func isIdentical(to other: RecordedEvent) -> Bool {
        self == other && stringBytes == other.stringBytes
    }

    /// Every string field's UTF-8 bytes, metadata included, in a fixed order.
    var stringBytes: [[UInt8]] {
        [stream, type, contentType, correlationID, causationID].map { Array($0.utf8) }
            + metadata.flatMap { [Array($0.key.utf8), Array($0.value.utf8)] }
    }
}
