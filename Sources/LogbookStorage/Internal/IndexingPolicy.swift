/// When the writer fills the read indexes (see `SecondaryIndexer`).
struct IndexingPolicy: Sendable {
    /// Un-indexed events that make the writer index them right after a commit.
    var batchEvents: Int
    /// Whether the writer also indexes a smaller tail when it has been idle for
    /// `StorageLimits.indexIdleDelayMilliseconds`, at close, and at open. Off only in
    /// tests, which pin where the indexed part of the log ends.
    var indexesWhenIdle: Bool

    static let standard = IndexingPolicy(batchEvents: StorageLimits.indexBatchEvents, indexesWhenIdle: true)
}
