internal import Foundation
@testable internal import LogbookPostgres
@testable internal import LogbookStorage
internal import Logging
internal import NIOPosix
internal import PostgresNIO

/// A database of its own for each test, in the throwaway cluster `scripts/test.sh`
/// starts (`scripts/postgres.sh`) and names in `LOGBOOK_TEST_POSTGRES`.
///
/// Without that variable the PostgreSQL suites are disabled; `scripts/test.sh` always
/// sets it and fails when the cluster does not start, so CI runs them.
enum PostgresFixture {
    static let url: PostgresURL? = ProcessInfo.processInfo.environment["LOGBOOK_TEST_POSTGRES"]
        .flatMap { $0.isEmpty ? nil : try? PostgresURL($0) }

    static var isAvailable: Bool { url != nil }

    /// Runs `body` with the URL of a new, empty database, dropped afterwards.
    static func withDatabase<T>(_ body: (PostgresURL) async throws -> T) async throws -> T {
        guard let url else { throw StorageError(code: .internalError, message: "LOGBOOK_TEST_POSTGRES is not set") }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await admin(url) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: StoreFixture.logger)
        }
        var database = url
        database.database = name
        do {
            let result = try await body(database)
            try await drop(name, url)
            return result
        } catch {
            try? await drop(name, url)
            throw error
        }
    }

    /// Runs `body` with a store open on a new database; closes it afterwards.
    static func withStore<T>(_ body: (PostgresStore, PostgresURL) async throws -> T) async throws -> T {
        try await withDatabase { url in
            let store = try await PostgresStore.open(url, logger: StoreFixture.logger, readConnections: 2)
            do {
                let result = try await body(store, url)
                await store.close()
                return result
            } catch {
                await store.close()
                throw error
            }
        }
    }

    /// Runs `body` with two stores open on one new database, as two daemons on two hosts.
    static func withTwoStores(_ body: (PostgresStore, PostgresStore) async throws -> Void) async throws {
        try await withStore { first, url in
            let second = try await PostgresStore.open(url, logger: StoreFixture.logger, readConnections: 2)
            do {
                try await body(first, second)
            } catch {
                await second.close()
                throw error
            }
            await second.close()
        }
    }

    /// Runs `body` with a connection of its own to `url` (for statements a test makes itself).
    @discardableResult
    static func admin<T>(_ url: PostgresURL, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: url.connectionConfiguration, id: 1,
            logger: StoreFixture.logger
        ).get()
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private static func drop(_ name: String, _ url: PostgresURL) async throws {
        try await admin(url) { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: StoreFixture.logger)
        }
    }
}

extension ReadOutcome {
    /// The outcome of an async read (the PostgreSQL store's).
    static func of(_ read: () async throws -> [RecordedEvent]) async -> ReadOutcome {
        do {
            return .events(try await read().map(\.withoutTime))
        } catch let error as StorageError {
            return .failed(error.code, message: error.message)
        } catch {
            return .failed(.internalError, message: "not a StorageError: \(error)")
        }
    }
}

extension PostgresStore {
    /// Every event, in position order, read in pages as a client would.
    func readAll() async throws -> [RecordedEvent] {
        var events = [RecordedEvent]()
        while true {
            let page = try await read(ReadRequest(
                selector: .all, start: .position((events.last?.position ?? 0) + 1), limit: StorageLimits.readBatchEventsMax))
            events += page
            if page.count < StorageLimits.readBatchEventsMax { return events }
        }
    }

    /// Queues every append at once, in order, so the writer takes several into one
    /// transaction; the answers come back in order.
    func pipelined(_ appends: [[StreamWrite]]) async -> [Result<AppendResult, any Error>] {
        await withTaskGroup(of: (Int, Result<AppendResult, any Error>).self) { group in
            var answers = [Result<AppendResult, any Error>?](repeating: nil, count: appends.count)
            for (index, writes) in appends.enumerated() {
                let (stream, continuation) = AsyncStream.makeStream(of: Result<AppendResult, any Error>.self)
                append(writes) { continuation.yield($0); continuation.finish() }
                group.addTask {
                    for await answer in stream { return (index, answer) }
                    return (index, .failure(StorageError(code: .internalError, message: "no answer")))
                }
            }
            for await (index, answer) in group { answers[index] = answer }
            return answers.map { $0! }
        }
    }
}
