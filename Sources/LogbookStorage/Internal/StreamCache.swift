/// A bounded map from stream name to what one thread keeps about the stream (its head,
/// or its row ids), for the log engine, where SQLite answers for the streams it does not
/// hold (DESIGN.md §4). Not thread-safe: each owner keeps its own (the log writer, the
/// indexer) or guards it with its lock (`PublishedState`).
///
/// Names are found under any canonically equivalent spelling (a Swift `String` key) and
/// kept in the spelling they were first stored under: the one SQLite files them under.
///
/// Eviction is a sweep once the cache holds more than its capacity (after a sweep that
/// could not get below it, a quarter of the capacity more than that sweep kept, so sweeps
/// stay one per many insertions): one pass that drops every entry unused since the
/// previous sweep (a "second chance": a lookup marks an entry used, the sweep clears the
/// mark) that the owner says may go. What may not go (the log engine's heads of streams
/// whose newest event SQLite does not hold yet) stays, however many there are: the
/// capacity bounds what is kept for speed, not what must be kept to be right. A sweep
/// costs one pass over the entries (milliseconds at 100,000), once per many insertions.
///
/// The sweep drops all it may, wherever the entries sit in the hash table. Dropping only
/// the first few found in table order (to stop at some target) emptied the start of the
/// table and left its end full, and Swift's linear probing then walked long runs of
/// occupied buckets on every lookup: the log writer spent most of its time comparing
/// strings (a million-stream append benchmark ran several times slower).
struct StreamCache<Value> {
    fileprivate struct Slot {
        var value: Value
        /// Looked up since the last sweep.
        var used: Bool
    }

    private var slots: [String: Slot] = [:]
    /// Entries kept before a sweep makes room; `Int.max` never sweeps.
    let capacity: Int
    /// The count past which the next `evictIfFull` sweeps.
    private var sweepAbove: Int

    init(capacity: Int) {
        precondition(capacity > 0, "a stream cache holds at least one stream")
        self.capacity = capacity
        sweepAbove = capacity
    }

    var count: Int { slots.count }

    /// Room for `count` entries without rehashing (a full load at open).
    mutating func reserveCapacity(_ count: Int) {
        slots.reserveCapacity(count)
    }

    /// The entry under `name` or a canonically equivalent spelling, in the spelling it
    /// was stored under, marked used.
    mutating func lookUp(_ name: String) -> (name: String, value: Value)? {
        guard let index = slots.index(forKey: name) else { return nil }
        slots.values[index].used = true
        return (slots.keys[index], slots.values[index].value)
    }

    /// The value under `name` (or an equivalent spelling), without marking it used;
    /// setting one keeps the spelling already stored and the mark, and nil removes it.
    subscript(name: String) -> Value? {
        get { slots[name]?.value }
        set {
            guard let newValue else {
                slots[name] = nil
                return
            }
            if let index = slots.index(forKey: name) {
                slots.values[index].value = newValue
            } else {
                slots[name] = Slot(value: newValue, used: false)
            }
        }
    }

    /// Every entry, in no order (the SQLite engine hands its full map to readers).
    var entries: some Sequence<(name: String, value: Value)> {
        slots.lazy.map { (name: $0.key, value: $0.value.value) }
    }

    /// Sweeps if the cache has grown past its threshold; `mayEvict` says which entries
    /// may go. Returns how many went.
    @discardableResult
    mutating func evictIfFull(_ mayEvict: (Value) -> Bool) -> Int {
        guard slots.count > sweepAbove else { return 0 }
        var victims = [String]()
        // Indices, not `for … in`: the marks are cleared in place, without a copy.
        var index = slots.values.startIndex
        while index != slots.values.endIndex {
            if slots.values[index].used {
                slots.values[index].used = false
            } else if mayEvict(slots.values[index].value) {
                victims.append(slots.keys[index])
            }
            slots.values.formIndex(after: &index)
        }
        for name in victims {
            slots[name] = nil
        }
        sweepAbove = max(capacity, slots.count + max(1, capacity / 4))
        return victims.count
    }
}

extension StreamCache: Sendable where Value: Sendable {}
extension StreamCache.Slot: Sendable where Value: Sendable {}
