/// A group as the store holds it: its definition and its durable progress.
package struct StoredGroup: Sendable, Hashable {
    package var definition: GroupDefinition
    /// Every position at or below it is settled (acked, skipped, parked or not matched).
    package var checkpoint: UInt64
    /// Positions above the checkpoint already settled, ascending.
    package var settled: [UInt64]
    package var parkedCount: UInt64
    /// When the group was created: the commit time of its creation, microseconds since
    /// the Unix epoch.
    package var createdMicros: Int64

    package init(
        definition: GroupDefinition, checkpoint: UInt64, settled: [UInt64], parkedCount: UInt64, createdMicros: Int64
    ) {
        self.definition = definition
        self.checkpoint = checkpoint
        self.settled = settled
        self.parkedCount = parkedCount
        self.createdMicros = createdMicros
    }
}
