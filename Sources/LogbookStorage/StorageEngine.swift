internal import Foundation

/// Which store keeps a data directory's events (DESIGN.md §4).
package enum StorageEngine: String, Sendable, CaseIterable {
    /// Segment files are the truth; SQLite beside them holds derived indexes, groups and
    /// views. The default for a new data directory.
    case log
    /// Every event is a row in SQLite: the first engine, and the reference the log
    /// engine is tested against. Existing SQLite data directories keep it.
    case sqlite

    /// What a new data directory gets when no engine is asked for.
    package static let defaultForNewDirectories = StorageEngine.log

    /// The engine that wrote `directory`, nil for a new or empty one: a `log` folder
    /// means the log engine, a database file without one the SQLite engine.
    package static func detect(directory: String) -> StorageEngine? {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        if files.fileExists(atPath: directory + "/" + logFolder, isDirectory: &isDirectory), isDirectory.boolValue {
            return .log
        }
        if files.fileExists(atPath: directory + "/" + EventStore.databaseFileName) {
            return .sqlite
        }
        return nil
    }

    /// The engine to open `directory` with: the one that wrote it, or `requested` (else
    /// the default) for a new one. Asking for another engine than the one that wrote the
    /// directory is refused: nothing converts one into the other.
    static func choose(directory: String, requested: StorageEngine?) throws(StorageError) -> StorageEngine {
        guard let found = detect(directory: directory) else { return requested ?? defaultForNewDirectories }
        if let requested, requested != found {
            throw .invalidArgument("""
                the data directory \(directory) holds a \(found.rawValue)-engine store; \
                open it with --engine \(found.rawValue) (or without --engine)
                """)
        }
        return found
    }

    /// The folder of segment files inside a log-engine data directory.
    package static let logFolder = "log"
}
