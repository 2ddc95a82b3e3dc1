internal import Foundation
internal import GRDB
internal import Synchronization

/// A row of `views`: a definition and the id that names its table and indexes.
struct StoredView {
    var id: Int64
    var definition: ViewDefinition

    /// The table of its documents.
    var table: String { "view_\(id)" }

    /// Decodes the columns `id, name, group_name, indexed_paths`.
    init(_ row: Row) throws {
        try self.init(
            id: row.decode(atIndex: 0), name: row.decode(atIndex: 1), group: row.decode(atIndex: 2),
            indexedPaths: row.decode(atIndex: 3))
    }

    /// The view with these column values; `indexedPaths` as stored (a JSON array).
    init(id: Int64, name: String, group: String, indexedPaths: String) throws {
        guard let decoded = Self.decodedPaths(indexedPaths) else {
            throw StorageError.corrupt("view '\(name)' has unreadable indexed paths")
        }
        self.id = id
        self.definition = ViewDefinition(name: name, group: group, indexedPaths: decoded)
    }

    /// `indexed_paths` decoded, remembered by their stored text: every query of a view reads
    /// its row, and JSONDecoder took a good part of a lookup by key.
    private static func decodedPaths(_ stored: String) -> [String]? {
        if let known = decoded.withLock({ $0[stored] }) { return known }
        guard let paths = try? JSONDecoder().decode([String].self, from: Data(stored.utf8)) else { return nil }
        decoded.withLock { known in
            if known.count >= StorageLimits.viewsDecodedPathsMax { known.removeAll() }
            known[stored] = paths
        }
        return paths
    }

    private static let decoded = Mutex([String: [String]]())

    static func find(_ name: String, _ db: Database) throws -> StoredView? {
        try Row.fetchOne(db.cachedStatement(sql: Schema.SQL.findView), arguments: [name]).map(StoredView.init)
    }

    static func all(_ db: Database) throws -> [StoredView] {
        try Row.fetchAll(db.cachedStatement(sql: Schema.SQL.listViews)).map(StoredView.init)
    }

    static func owned(by group: String, _ db: Database) throws -> [StoredView] {
        try Row.fetchAll(db.cachedStatement(sql: Schema.SQL.viewsOfGroup), arguments: [group]).map(StoredView.init)
    }

    /// `indexed_paths` as stored.
    static func encodePaths(_ paths: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(paths), as: UTF8.self)
    }

    /// The DDL of a view's table and indexes. Paths passed `ViewValidator.validatePath`,
    /// so they hold no quote and are safe inside `'…'`.
    static func creationSQL(id: Int64, paths: [String]) -> String {
        var sql = "CREATE TABLE view_\(id) (key TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);\n"
        for (index, path) in paths.enumerated() {
            sql += "CREATE INDEX view_\(id)_i\(index) ON view_\(id)(\(ViewSQL.extract(path)));\n"
        }
        return sql
    }
}
