internal import GRDB

/// A Bloom filter over the event ids in the log: the log writer's fast "certainly new"
/// answer, so an append with fresh ids (nearly every append) never reads SQLite.
///
/// "Maybe present" is confirmed in SQLite's unique event-id index (and in memory for
/// events SQLite does not hold yet), so idempotency stays exact and durable with no time
/// window; a false "maybe" only costs a lookup. `StorageLimits.eventIDFilterBitsPerID`
/// bits per id with four probes keep false positives near 0.2%. It lives on the log
/// writer thread only.
struct EventIDFilter {
    private(set) var words: [UInt64]
    private var mask: UInt64
    /// Ids added; past `capacity` the false-positive rate climbs, and the owner rebuilds
    /// the filter at twice the size.
    private(set) var count = 0

    /// A filter sized for `expected` ids with room to grow (a power of two of bits).
    init(expected: Int) {
        let wanted = max(StorageLimits.eventIDFilterBitsMin, expected * 2 * StorageLimits.eventIDFilterBitsPerID)
        var bits = 64
        while bits < wanted { bits <<= 1 }
        words = [UInt64](repeating: 0, count: bits / 64)
        mask = UInt64(bits - 1)
    }

    /// The filter a file held (`EventIDFilter+File`); `words.count` is a power of two.
    init(words: [UInt64], count: Int) {
        self.words = words
        mask = UInt64(words.count * 64 - 1)
        self.count = count
    }

    /// Ids it holds before it should be rebuilt larger.
    var capacity: Int { words.count * 64 / StorageLimits.eventIDFilterBitsPerID }

    mutating func insert(_ id: EventID) {
        var hash = Self.hash(id)
        for _ in 0..<Self.probes {
            let bit = hash.next() & mask
            words[Int(bit >> 6)] |= 1 << (bit & 63)
        }
        count += 1
    }

    /// False only when `id` was never inserted.
    func mightContain(_ id: EventID) -> Bool {
        var hash = Self.hash(id)
        for _ in 0..<Self.probes {
            let bit = hash.next() & mask
            guard words[Int(bit >> 6)] & (1 << (bit & 63)) != 0 else { return false }
        }
        return true
    }

    private static let probes = 4

    /// Double hashing (Kirsch and Mitzenmacher) over a mix of both halves: ids may be
    /// UUIDv7, whose first half is a clock, so neither half alone is random.
    private struct Probes {
        var value: UInt64
        let step: UInt64

        mutating func next() -> UInt64 {
            defer { value &+= step }
            return value
        }
    }

    private static func hash(_ id: EventID) -> Probes {
        let first = mix(id.high ^ (id.low &* 0x9E37_79B9_7F4A_7C15))
        let second = mix(id.low ^ (id.high &* 0xC2B2_AE3D_27D4_EB4F)) | 1
        return Probes(value: first, step: second)
    }

    /// SplitMix64's finaliser: every input bit moves every output bit.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension EventIDFilter {
    /// A filter of every id SQLite holds and of `extra` (the log's events it does not
    /// hold yet), sized for `expectedMore` more. Reads the whole event-id index once: at
    /// open, and when the filter outgrows itself (each time at twice the size, so the
    /// cost per appended event stays constant).
    static func build(_ pool: DatabasePool, adding extra: [EventID], expectedMore: Int) throws -> EventIDFilter {
        try pool.read { db in try build(db, adding: extra, expectedMore: expectedMore) }
    }

    /// The same on a connection the caller holds (at open, the writer's, before the
    /// writer thread takes it: a reader opened then would be the last connection to
    /// close and, being read-only, would leave the WAL file behind).
    static func build(_ db: Database, adding extra: [EventID], expectedMore: Int) throws -> EventIDFilter {
        // Positions are dense, so the last one is the number of events.
        let stored = try Int64.fetchOne(db, sql: "SELECT MAX(position) FROM events") ?? 0
        var filter = EventIDFilter(expected: Int(clamping: stored) + extra.count + expectedMore)
        let ids = try Row.fetchCursor(db, sql: "SELECT event_id FROM events INDEXED BY events_event_id")
        while let row = try ids.next() {
            filter.insert(try eventID(row))
        }
        for id in extra {
            filter.insert(id)
        }
        return filter
    }
}
