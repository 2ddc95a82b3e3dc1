/// What a store keeps about one stream beyond its events: its last revision, and the
/// rules that hide events (issue 16, stream lifecycle). Every store applies the same rules
/// through this type, so they are written once and tested on their own.
///
/// - Soft delete: the events so far are hidden (`truncateBefore` = last + 1) and the
///   stream reads as not found; for an expected revision it is absent, so `noStream` and
///   `any` recreate it, and its revisions continue after the deleted ones (an old expected
///   revision can never match again).
/// - Tombstone (hard delete): the stream can never be written again, and reads as not found.
/// - `maxCount`, `maxAge`, `truncateBefore`: events past them are hidden at once.
package struct StreamLifecycle: Hashable, Sendable {
    /// The stream's last revision; nil before its first event.
    package var lastRevision: UInt64?
    /// Revisions below it are hidden; 0 hides none.
    package var truncateBefore: UInt64 = 0
    /// Revisions below it were deleted (soft delete): metadata cannot bring them back.
    package var deletedBefore: UInt64 = 0
    /// At most this many of the newest events are visible; nil for no bound.
    package var maxCount: UInt64?
    /// Events older than this many microseconds are hidden; nil for no bound.
    package var maxAgeMicros: Int64?
    /// Soft-deleted, until the next append recreates it.
    package var isDeleted = false
    /// Hard-deleted, for good.
    package var isTombstoned = false

    package init(lastRevision: UInt64? = nil) {
        self.lastRevision = lastRevision
    }

    /// Why an append or a delete is refused.
    package enum Refusal: Error, Hashable, Sendable {
        /// The expected revision does not hold; `actual` is what an appender would see
        /// (nil: the stream is absent).
        case wrongExpectedRevision(actual: UInt64?)
        /// The stream was tombstoned.
        case streamDeleted
    }

    /// The head an expected revision is checked against: a deleted stream is absent.
    package var visibleHead: UInt64? {
        self.isDeleted || self.isTombstoned ? nil : self.lastRevision
    }

    /// Whether reads of the stream answer not found (as against an empty stream).
    package var readsAsNotFound: Bool {
        self.isDeleted || self.isTombstoned
    }

    /// Checks an append of `count` events (at least one) against `expected`; on success
    /// returns the first revision they get and applies the append to `self`.
    package mutating func append(_ count: UInt64, expected: ExpectedRevision) -> Result<UInt64, Refusal> {
        precondition(count > 0, "an append holds at least one event")
        if self.isTombstoned { return .failure(.streamDeleted) }
        guard expected.isSatisfied(byHead: self.visibleHead) else {
            return .failure(.wrongExpectedRevision(actual: self.visibleHead))
        }
        let first = self.lastRevision.map { $0 + 1 } ?? 0
        self.lastRevision = first + count - 1
        self.isDeleted = false
        return .success(first)
    }

    /// Deletes the stream (`hard`: for good) if `expected` holds. Deleting a stream that
    /// does not exist, or is already deleted, is refused as its expected revision would be
    /// (`noStream` and `any` succeed and change nothing more).
    package mutating func delete(expected: ExpectedRevision, hard: Bool) -> Result<Void, Refusal> {
        if self.isTombstoned { return .failure(.streamDeleted) }
        guard expected.isSatisfied(byHead: self.visibleHead) else {
            return .failure(.wrongExpectedRevision(actual: self.visibleHead))
        }
        if let last = self.lastRevision {
            self.deletedBefore = last + 1
            self.truncateBefore = max(self.truncateBefore, last + 1)
        }
        self.isDeleted = true
        self.isTombstoned = hard
        return .success(())
    }

    /// The bounds a stream's metadata sets (`setBounds`); nil leaves one unset.
    package struct Bounds: Hashable, Sendable {
        package var maxCount: UInt64?
        package var maxAgeMicros: Int64?
        package var truncateBefore: UInt64?

        package init(maxCount: UInt64? = nil, maxAgeMicros: Int64? = nil, truncateBefore: UInt64? = nil) {
            self.maxCount = maxCount
            self.maxAgeMicros = maxAgeMicros
            self.truncateBefore = truncateBefore
        }
    }

    package var bounds: Bounds {
        Bounds(maxCount: maxCount, maxAgeMicros: maxAgeMicros, truncateBefore: truncateBefore == 0 ? nil : truncateBefore)
    }

    /// Replaces the stream's bounds (a tombstoned stream has none to change). A soft
    /// delete's truncation stays: metadata can hide more events, never bring deleted ones back.
    package mutating func setBounds(_ bounds: Bounds) -> Result<Void, Refusal> {
        if self.isTombstoned { return .failure(.streamDeleted) }
        self.maxCount = bounds.maxCount
        self.maxAgeMicros = bounds.maxAgeMicros
        self.truncateBefore = max(bounds.truncateBefore ?? 0, self.deletedBefore)
        return .success(())
    }

    /// Whether there is anything to keep about the stream beyond its events.
    package var hasRules: Bool {
        isDeleted || isTombstoned || truncateBefore > 0 || maxCount != nil || maxAgeMicros != nil
    }

    /// Brings the record up to the stream's head as its events say: appends after the
    /// record was saved moved it, and one of them recreated the stream if it was deleted.
    package mutating func catchUp(head: UInt64?) {
        guard let head, head > (lastRevision ?? 0) || lastRevision == nil else { return }
        lastRevision = head
        isDeleted = false
    }

    /// The lowest revision a read may show now, by `truncateBefore` and `maxCount`; nil
    /// when no revision is visible.
    package var firstVisibleRevision: UInt64? {
        guard let last = self.lastRevision, !self.readsAsNotFound else { return nil }
        var first = self.truncateBefore
        if let maxCount = self.maxCount {
            guard maxCount > 0 else { return nil }
            first = max(first, last >= maxCount ? last - maxCount + 1 : 0)
        }
        return first <= last ? first : nil
    }

    /// Whether the event at `revision`, committed at `timeMicros`, is visible at `nowMicros`.
    package func isVisible(revision: UInt64, timeMicros: Int64, nowMicros: Int64) -> Bool {
        guard let bounds = self.readBounds(nowMicros: nowMicros), revision >= bounds.firstRevision,
            revision <= self.lastRevision ?? 0
        else { return false }
        return timeMicros >= bounds.minTimeMicros ?? .min
    }

    /// What a read of the stream may show at `nowMicros`, as bounds a query puts on its
    /// revisions and commit times; nil when nothing is visible.
    package func readBounds(nowMicros: Int64) -> (firstRevision: UInt64, minTimeMicros: Int64?)? {
        guard let first = self.firstVisibleRevision else { return nil }
        return (first, self.maxAgeMicros.map { nowMicros - $0 })
    }
}
