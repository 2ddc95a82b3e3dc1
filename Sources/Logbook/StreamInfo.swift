/// The bounds that hide a stream's older events, as KurrentDB's `$maxCount`, `$maxAge`
/// and `$tb`: events past them are gone from reads, `$all`, categories and groups at once.
/// Nil leaves a bound unset.
public struct StreamMetadata: Sendable, Hashable {
    /// At most this many of the newest events are visible.
    public var maxCount: UInt64?
    /// Events older than this are hidden (whole seconds).
    public var maxAge: Duration?
    /// Revisions below this are hidden.
    public var truncateBefore: UInt64?

    public init(maxCount: UInt64? = nil, maxAge: Duration? = nil, truncateBefore: UInt64? = nil) {
        self.maxCount = maxCount
        self.maxAge = maxAge
        self.truncateBefore = truncateBefore
    }
}

/// A stream's lifecycle: its last revision, its bounds and whether it was deleted.
public struct StreamInfo: Sendable, Hashable {
    public var stream: String
    /// The last revision it was given; nil if it never had an event. A deleted stream
    /// keeps it: its revisions go on from there when an append recreates it.
    public var lastRevision: UInt64?
    public var metadata: StreamMetadata
    /// Soft-deleted: reads answer `.notFound` until an append (`.noStream` or `.any`)
    /// recreates it.
    public var isDeleted: Bool
    /// Deleted for good: appends fail with `.failedPrecondition` and a `streamDeleted` detail.
    public var isTombstoned: Bool
}
