/// A segment's sparse offset index: the byte offset of every few records, so a read
/// finds a position with a binary search and a short scan (Kafka's `.index` does the same).
///
/// An entry is taken for the segment's first record, then whenever
/// `LogLimits.offsetIndexIntervalRecords` records or `offsetIndexIntervalBytes` bytes have
/// passed since the last entry. The index is derived: kept in memory for the active
/// segment, written to `<first>.idx` when the segment is sealed, rebuilt by a scan when
/// that file is missing or damaged.
struct OffsetIndex: Sendable, Hashable {
    struct Entry: Sendable, Hashable {
        var position: UInt64
        var offset: Int64
    }

    private(set) var entries: [Entry] = []

    init() {}

    init(entries: [Entry]) {
        self.entries = entries
    }

    /// Notes a record; adds an entry when one is due. Records must come in order.
    mutating func note(position: UInt64, offset: Int64) {
        let entry = Entry(position: position, offset: offset)
        if Self.isDue(entry, after: entries.last) { entries.append(entry) }
    }

    /// Whether a record gets an entry, given the last entry of its segment.
    static func isDue(_ record: Entry, after last: Entry?) -> Bool {
        guard let last else { return true }
        return record.position - last.position >= LogLimits.offsetIndexIntervalRecords
            || record.offset - last.offset >= LogLimits.offsetIndexIntervalBytes
    }

    mutating func append(contentsOf other: some Sequence<Entry>) {
        entries.append(contentsOf: other)
    }

    /// Drops the entries of records past `position` (a cut tail).
    mutating func removeEntries(after position: UInt64) {
        while let last = entries.last, last.position > position {
            entries.removeLast()
        }
    }

    /// The last entry at or before `position`.
    func entry(atOrBefore position: UInt64) -> Entry? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].position <= position { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : entries[low - 1]
    }
}
