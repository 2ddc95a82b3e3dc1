internal import GRDB

extension AppendWriter {
    /// The stream's cached entry, creating its row (and its category's) on first write.
    ///
    /// The log engine's indexer keeps only some streams (`WriterState`) and looks the
    /// others up by lookup key on its own connection, which sees this transaction's rows
    /// too. Entries are evicted only between batches (`process`), so the undo log of the
    /// open transaction always finds what it undoes; an entry found by a lookup is a
    /// committed row, which no rollback of this batch removes, so it needs no undo.
    func streamEntry(named name: String, category: String) throws -> WriterState.Stream {
        if let stream = state.streams.lookUp(name)?.value { return stream }
        let key = StreamName.lookupKey(name)
        if !state.streamsAreComplete, let row = try Row.fetchOne(statements.findStream, arguments: [key]) {
            let stream = WriterState.Stream(id: try row.decode(atIndex: 0), categoryID: try row.decode(atIndex: 1), head: nil)
            state.streams[name] = stream
            return stream
        }
        let categoryID = try state.categories[category]
            ?? self.insert(category, into: \.categories, statements.insertCategory, undo: .categoryCreated(category))
        try statements.insertStream.execute(arguments: [name, key, categoryID])
        let stream = WriterState.Stream(id: db.lastInsertedRowID, categoryID: categoryID, head: nil)
        state.streams[name] = stream
        undoLog.append(.streamCreated(name))
        return stream
    }

    func eventTypeID(_ name: String) throws -> Int64 {
        try state.eventTypes[name] ?? self.insert(name, into: \.eventTypes, statements.insertEventType, undo: .eventTypeCreated(name))
    }

    /// Adds `name` to a dictionary table and its in-memory copy; `undo` takes it out of
    /// memory again if the append rolls back.
    private func insert(
        _ name: String, into dictionary: WritableKeyPath<WriterState, [String: Int64]>, _ statement: Statement, undo: Undo
    ) throws -> Int64 {
        try statement.execute(arguments: [name])
        let id = db.lastInsertedRowID
        state[keyPath: dictionary][name] = id
        undoLog.append(undo)
        return id
    }
}
