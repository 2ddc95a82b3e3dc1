/// The records one read returns, in the read's order.
///
/// Their payloads sit back to back in one buffer, so a read allocates a couple of times
/// however many records it returns, and a server can send each payload as it is (the
/// log stores an event in the form a read sends).
struct LogRecords: Sendable, RandomAccessCollection {
    struct Record: Sendable, Hashable {
        var position: UInt64
        var payload: ArraySlice<UInt8>
    }

    private struct Entry: Sendable, Hashable {
        var position: UInt64
        var payload: Range<Int>
    }

    /// Every payload, in the order of the records.
    private(set) var payloadBytes: [UInt8] = []
    private var entries: [Entry] = []

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { entries.count }

    subscript(index: Int) -> Record {
        let entry = entries[index]
        return Record(position: entry.position, payload: payloadBytes[entry.payload])
    }

    var positions: [UInt64] { entries.map(\.position) }

    mutating func append(position: UInt64, payload: ArraySlice<UInt8>) {
        let start = payloadBytes.count
        payloadBytes.append(contentsOf: payload)
        entries.append(Entry(position: position, payload: start..<payloadBytes.count))
    }
}
