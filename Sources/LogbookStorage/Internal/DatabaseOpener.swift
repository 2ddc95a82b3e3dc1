internal import Foundation
internal import GRDB
internal import Logging

/// Opens (or creates) the log's database, refusing one it cannot trust.
///
/// An existing file is first inspected on a plain connection that only reads: the
/// schema version, the application id and `PRAGMA quick_check`. A damaged file, a
/// foreign one or one from a newer Logbook is refused with a message naming it, and
/// is never truncated, rewritten or switched to WAL.
enum DatabaseOpener {
    struct Opened {
        var lock: DirectoryLock
        var pool: DatabasePool
        var path: String
        var state: WriterState
    }

    /// `streamsCached`: nil loads every stream into the writer's state (the SQLite
    /// engine); otherwise none are loaded and the state keeps at most that many (the log
    /// engine's indexer, which looks the others up).
    /// `rules` answers the SQL function reads hide events with (`StreamRules`).
    static func open(
        directory: String, sync: SyncMode, maxPageCount: Int?, indexing: IndexingPolicy, streamsCached: Int?,
        rules: StreamRules, logger: Logger
    ) throws(StorageError) -> Opened {
        let path = try databasePath(in: directory)
        let lock = try DirectoryLock(directory: directory)
        if FileManager.default.fileExists(atPath: path) {
            try inspect(path)
        }
        do {
            let pool = try DatabasePool(path: path, configuration: configuration(maxPageCount: maxPageCount, rules: rules))
            let state = try pool.writeWithoutTransaction { db in
                try configureWriter(db, sync: sync)
                try createSchemaIfNeeded(db, path: path, logger: logger)
                var state = try WriterState.load(db, streamsCached: streamsCached)
                if indexing.indexesWhenIdle, state.indexedUpTo < state.headPosition {
                    // A crash (or a migration) left events without index rows; indexing
                    // them now keeps the first reads from scanning a long tail.
                    let from = state.indexedUpTo
                    state.indexedUpTo = try SecondaryIndexer.catchUp(
                        db, from: from, to: state.headPosition, logger: logger)
                    logger.info(
                        "read indexes caught up",
                        metadata: ["path": "\(path)", "from": "\(from)", "to": "\(state.indexedUpTo)"])
                }
                return state
            }
            return Opened(lock: lock, pool: pool, path: path, state: state)
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError.corrupt("cannot open the event log \(path): \(error)", cause: error)
        }
    }

    private static func databasePath(in directory: String) throws(StorageError) -> String {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StorageError(
                code: .invalidArgument,
                message: "cannot create the data directory \(directory): \(error)",
                cause: error)
        }
        return URL(fileURLWithPath: directory).appendingPathComponent(Schema.fileName).path
    }

    private static func configuration(maxPageCount: Int?, rules: StreamRules) -> Configuration {
        var configuration = Configuration()
        configuration.label = "logbook"
        configuration.foreignKeysEnabled = false
        // The writer runs its own BEGIN/COMMIT. If a ROLLBACK fails after an I/O error
        // the transaction stays open; that must fail-stop the writer, not crash.
        configuration.allowsUnsafeTransactions = true
        configuration.maximumReaderCount = StorageLimits.readerConnectionsMax
        configuration.prepareDatabase { db in
            db.add(function: rules.sqlFunction())
            guard !db.configuration.readonly else { return }
            try db.execute(sql: "PRAGMA cache_size = -\(StorageLimits.writerCacheKiB)")
            if let maxPageCount {
                try db.execute(sql: "PRAGMA max_page_count = \(maxPageCount)")
            }
        }
        return configuration
    }

    /// GRDB sets `synchronous = NORMAL` when it turns WAL on, after `prepareDatabase`,
    /// so the sync mode is set (and checked) here.
    private static func configureWriter(_ db: Database, sync: SyncMode) throws {
        try db.execute(sql: "PRAGMA synchronous = \(sync.pragmaValue)")
        let expected = sync == .full ? 2 : 1
        let actual = try Int.fetchOne(db, sql: "PRAGMA synchronous")
        guard actual == expected else {
            throw StorageError(code: .internalError, message: "PRAGMA synchronous is \(actual ?? -1), not \(expected)")
        }
    }

    private static func createSchemaIfNeeded(_ db: Database, path: String, logger: Logger) throws {
        let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        switch version {
        case Schema.version:
            return
        case 0:
            try db.inTransaction {
                try db.execute(sql: Schema.creation)
                return .commit
            }
            logger.info("event log schema created", metadata: ["path": "\(path)", "version": "\(Schema.version)"])
        case 1, 2, 3, 4, 5:
            let lookupKey = DatabaseFunction(Schema.lookupKeyFunction, argumentCount: 1, pure: true) { values in
                String.fromDatabaseValue(values[0]).map(StreamName.lookupKey)
            }
            db.add(function: lookupKey)
            defer { db.remove(function: lookupKey) }
            try db.inTransaction {
                if version == 1 { try db.execute(sql: Schema.migrationFromVersion1) }
                if version <= 2 { try db.execute(sql: Schema.migrationFromVersion2) }
                if version <= 3 { try db.execute(sql: Schema.migrationFromVersion3) }
                if version <= 4 { try db.execute(sql: Schema.migrationFromVersion4) }
                try db.execute(sql: Schema.migrationFromVersion5)
                return .commit
            }
            logger.info(
                "event log schema migrated",
                metadata: ["path": "\(path)", "from": "\(version)", "to": "\(Schema.version)"])
        default:
            throw unsupported(path: path, version: version)
        }
    }

    private static func inspect(_ path: String) throws(StorageError) {
        do {
            let queue = try DatabaseQueue(path: path, configuration: inspectionConfiguration())
            try queue.read { db in try inspect(db, path: path) }
            try queue.close()
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError.corrupt(
                "\(path) is not a usable Logbook database (\(describe(error))); \(refusal)",
                cause: error)
        }
    }

    private static func inspectionConfiguration() -> Configuration {
        var configuration = Configuration()
        configuration.label = "logbook.inspect"
        configuration.foreignKeysEnabled = false
        return configuration
    }

    private static func inspect(_ db: Database, path: String) throws {
        let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        if version > Schema.version {
            throw unsupported(path: path, version: version)
        }
        if version == 0 {
            let objects = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") ?? 0
            guard objects == 0 else { throw foreign(path: path, why: "it has tables but no Logbook schema version") }
            return
        }
        guard applicationID == Schema.applicationID else {
            throw foreign(path: path, why: "its application id is \(applicationID)")
        }
        let problems = try String.fetchAll(db, sql: "PRAGMA quick_check(\(StorageLimits.integrityProblemsReported))")
        guard problems == ["ok"] else {
            throw StorageError.corrupt("""
                \(path) failed its integrity check (\(problems.joined(separator: "; "))); \(refusal)
                """)
        }
    }

    private static let refusal = "refusing to open it (the file was left unchanged)"

    private static func unsupported(path: String, version: Int) -> StorageError {
        StorageError(
            code: .unsupportedSchema,
            message: """
                \(path) has schema version \(version) but this build knows only up to \(Schema.version); \
                it was written by a newer Logbook; \(refusal)
                """)
    }

    private static func foreign(path: String, why: String) -> StorageError {
        StorageError.corrupt("\(path) is not a Logbook database (\(why)); \(refusal)")
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        return error.message ?? "SQLite error \(error.extendedResultCode.rawValue)"
    }
}
