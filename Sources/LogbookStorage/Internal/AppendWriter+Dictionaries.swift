internal import GRDB

extension AppendWriter {
    /// The stream's cached entry, creating its row (and its category's) on first write.
    func streamEntry(for write: PreparedWrite) throws -> WriterState.Stream {
        if let stream = state.streams[write.stream] { return stream }
        let categoryID = try self.categoryID(write.category)
        try statements.insertStream.execute(arguments: [write.stream, categoryID])
        let stream = WriterState.Stream(id: db.lastInsertedRowID, categoryID: categoryID, head: nil)
        state.streams[write.stream] = stream
        undoLog.append(.streamCreated(write.stream))
        return stream
    }

    func eventTypeID(_ name: String) throws -> Int64 {
        if let id = state.eventTypes[name] { return id }
        try statements.insertEventType.execute(arguments: [name])
        let id = db.lastInsertedRowID
        state.eventTypes[name] = id
        undoLog.append(.eventTypeCreated(name))
        return id
    }

    private func categoryID(_ name: String) throws -> Int64 {
        if let id = state.categories[name] { return id }
        try statements.insertCategory.execute(arguments: [name])
        let id = db.lastInsertedRowID
        state.categories[name] = id
        undoLog.append(.categoryCreated(name))
        return id
    }
}
