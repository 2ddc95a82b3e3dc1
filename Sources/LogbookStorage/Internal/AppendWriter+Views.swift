internal import GRDB

/// View changes on the writer, each inside the savepoint of the group job that carries
/// it: a failure anywhere in the job rolls the view changes back with the rest.
extension AppendWriter {
    func defineView(_ definition: ViewDefinition, time: Int64) throws {
        if let stored = try StoredView.find(definition.name, db) {
            guard stored.definition == definition else {
                throw StorageError(code: .viewExists, message: """
                    a different view named '\(definition.name)' already exists (written by group \
                    '\(stored.definition.group)', indexing \(stored.definition.indexedPaths)); drop it first
                    """)
            }
            return
        }
        guard try Row.fetchOne(db.cachedStatement(sql: Schema.SQL.findGroupProgress), arguments: [definition.group]) != nil
        else {
            throw StorageError(code: .notFound, message: "group '\(definition.group)' does not exist")
        }
        try db.execute(sql: Schema.SQL.insertView, arguments: [
            definition.name, definition.group, try StoredView.encodePaths(definition.indexedPaths), time,
        ])
        try db.execute(sql: StoredView.creationSQL(id: db.lastInsertedRowID, paths: definition.indexedPaths))
    }

    /// Dropping the table drops its indexes with it.
    func dropView(_ name: String) throws {
        guard let stored = try StoredView.find(name, db) else {
            throw Self.viewNotFound(name)
        }
        try db.execute(sql: "DROP TABLE \(stored.table)")
        try db.execute(sql: Schema.SQL.deleteView, arguments: [stored.id])
    }

    /// Refuses to delete a group whose views would be left without a writer.
    func checkOwnsNoViews(_ group: String) throws {
        let owned = try StoredView.owned(by: group, db).map { "'\($0.definition.name)'" }
        guard owned.isEmpty else {
            throw StorageError(code: .failedPrecondition, message: """
                group '\(group)' writes the views \(owned.joined(separator: ", ")); drop them first
                """)
        }
    }

    func clearViews(of group: String) throws {
        for view in try StoredView.owned(by: group, db) {
            try db.execute(sql: "DELETE FROM \(view.table)")
        }
    }

    /// Applies an ack's writes in order. A write to a view that is gone, or that is now
    /// another group's (dropped and defined again since `validateViewWrites`), is skipped:
    /// the ack it rides on is still good for the group.
    func applyViewWrites(_ writes: [ViewWrite], group: String) throws {
        var targets = [String: ViewWriteStatements?]()
        for write in writes {
            let target: ViewWriteStatements?
            if let known = targets[write.view] {
                target = known
            } else {
                target = try StoredView.find(write.view, db)
                    .flatMap { $0.definition.group == group ? $0 : nil }
                    .map { try ViewWriteStatements(table: $0.table, db) }
                targets[write.view] = target
            }
            try target?.apply(write, db)
        }
    }

    static func viewNotFound(_ name: String) -> StorageError {
        StorageError(code: .notFound, message: "view '\(name)' does not exist")
    }
}

/// The statements that change one view's documents, prepared once per job that writes it.
///
/// Not cached across jobs: the table may be dropped by the next job, and a statement
/// that failed keeps its error (see `AppendWriter.statements`).
struct ViewWriteStatements {
    let put: Statement
    let merge: Statement
    let insertMerged: Statement
    let remove: Statement

    init(table: String, _ db: Database) throws {
        // `json(?)` and `json_patch` store documents minified.
        put = try db.makeStatement(sql: """
            INSERT INTO \(table) (key, doc) VALUES (?, json(?))
            ON CONFLICT (key) DO UPDATE SET doc = excluded.doc
            """)
        merge = try db.makeStatement(sql: "UPDATE \(table) SET doc = json_patch(doc, ?) WHERE key = ?")
        insertMerged = try db.makeStatement(sql: "INSERT INTO \(table) (key, doc) VALUES (?, json_patch('{}', ?))")
        remove = try db.makeStatement(sql: "DELETE FROM \(table) WHERE key = ?")
    }

    func apply(_ write: ViewWrite, _ db: Database) throws {
        switch write.operation {
        case .put(let json):
            try put.execute(arguments: [write.key, json])
        case .merge(let patch):
            try merge.execute(arguments: [patch, write.key])
            // RFC 7396 patches a missing document as if it were `{}`.
            if db.changesCount == 0 {
                try insertMerged.execute(arguments: [write.key, patch])
            }
        case .remove:
            try remove.execute(arguments: [write.key])
        }
    }
}
