internal import GRDB

/// Log engine: the events that SQL found, taken whole from the log.
///
/// The indexer stores rows without data or metadata (the log holds them; storing them
/// twice doubled the disk and most of the indexer's page writes), so a read's SQL only
/// chooses the positions (`Key`) and each event comes from its record, all of a read's
/// in one forward pass over the log (`SegmentLog.read(positions:)`).
enum LogEvents {
    /// What a row of a log-engine read gives (`ReadQuery`'s key columns): where the
    /// event is, and what the record there must be.
    struct Key {
        var position: UInt64
        var revision: UInt64
        var id: EventID

        init(_ row: Row) throws {
            let position: Int64 = try row.decode(atIndex: 0)
            let revision: Int64 = try row.decode(atIndex: 1)
            guard let position = UInt64(exactly: position), position > 0, let revision = UInt64(exactly: revision),
                let id = try row.withUnsafeData(atIndex: 2, { $0.flatMap { EventID(byteSequence: $0) } })
            else {
                throw StorageError.corrupt("an events row at position \(position) has an invalid revision or id")
            }
            (self.position, self.revision, self.id) = (position, revision, id)
        }

        init(_ event: RecordedEvent) {
            (position, revision, id) = (event.position, event.revision, event.id)
        }
    }

    /// Appends the events `keys` name, in the keys' order, checking that each record is
    /// the event its row named.
    static func append(_ keys: [Key], to events: inout [RecordedEvent], from log: SegmentLog) throws(StorageError) {
        guard !keys.isEmpty else { return }
        // Rows come in position order, forwards or backwards; the log is read forwards.
        let order = keys.indices.sorted { keys[$0].position < keys[$1].position }
        let records = try log.read(positions: order.map { keys[$0].position })
        guard records.count == keys.count else {
            let missing = order.map { keys[$0].position }[records.count]
            throw .corrupt("the log does not hold position \(missing), which the index names")
        }
        var found = [RecordedEvent?](repeating: nil, count: keys.count)
        for (index, record) in zip(order, records) {
            found[index] = try recorded(record, keys[index])
        }
        events.reserveCapacity(events.count + keys.count)
        for event in found {
            if let event { events.append(event) }
        }
    }

    private static func recorded(_ record: LogRecords.Record, _ key: Key) throws(StorageError) -> RecordedEvent {
        let event = try record.event(at: key.position)
        guard event.id == key.id, event.revision == key.revision else {
            throw .corrupt("the log's event at position \(key.position) is not the one the index names")
        }
        return event
    }
}

extension LogRecords.Record {
    /// The event this record holds, which must be the one at `position`.
    func event(at position: UInt64) throws(StorageError) -> RecordedEvent {
        guard self.position == position,
            let event = self.payload.withUnsafeBytes({ EventRecord.recorded($0, position: position) })
        else {
            throw .corrupt("the log's record at position \(position) is missing or does not decode")
        }
        return event
    }
}
