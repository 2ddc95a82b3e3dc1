/// The part of a group that one daemon delivers, and the progress it starts from.
///
/// The embedded stores serve one daemon, which delivers the whole group. The PostgreSQL
/// store, which several daemons share, splits a group's streams into
/// `StorageLimits.groupPartitions` partitions by a hash of the stream's name and leases
/// each partition to one daemon at a time (DESIGN §10): that daemon alone delivers and
/// settles its streams' events, so each event is settled once and a stream's events go
/// out in order from one place.
package struct GroupShare: Sendable, Hashable {
    /// One leased partition: the lease's epoch, which fences its progress saves (a save
    /// under an older epoch is refused), and the partition's checkpoint when leased.
    package struct Lease: Sendable, Hashable {
        package var epoch: UInt64
        package var checkpoint: UInt64

        package init(epoch: UInt64, checkpoint: UInt64) {
            self.epoch = epoch
            self.checkpoint = checkpoint
        }
    }

    /// By partition; nil for the whole group.
    package var leases: [Int: Lease]?

    package init(leases: [Int: Lease]?) {
        self.leases = leases
    }

    package static let whole = GroupShare(leases: nil)

    package var isWhole: Bool { leases == nil }

    /// True when the share holds no partition: the daemon delivers nothing of the group.
    package var isEmpty: Bool { leases?.isEmpty ?? false }

    /// Whether `other` holds the same partitions under the same epochs: the same leases,
    /// however far their checkpoints have moved since (every save moves them).
    package func holdsSameLeases(as other: GroupShare) -> Bool {
        leases?.mapValues(\.epoch) == other.leases?.mapValues(\.epoch)
    }

    /// Whether the stream's events are this share's to deliver (parked ones included).
    package func owns(stream: String) -> Bool {
        guard let leases else { return true }
        return leases[Self.partition(of: stream)] != nil
    }

    /// Whether the event at `position` of `stream` is this share's and not settled by its
    /// partition's checkpoint: partitions leased at different times have different ones.
    package func admits(stream: String, position: UInt64) -> Bool {
        guard let leases else { return true }
        guard let lease = leases[Self.partition(of: stream)] else { return false }
        return position > lease.checkpoint
    }

    /// The partition of a stream: its name's CRC32C, so that every daemon, whatever its
    /// build, computes the same.
    package static func partition(of stream: String) -> Int {
        Int(CRC32C.checksum(stream.utf8) % UInt32(StorageLimits.groupPartitions))
    }
}

/// What a daemon holds of a group: its share, and the progress its state machine starts
/// from, which covers the share only.
package struct GroupClaim: Sendable, Hashable {
    package var share: GroupShare
    /// Every position of the share at or below it is settled (each leased partition may
    /// be further on: `GroupShare.admits`).
    package var checkpoint: UInt64
    /// Positions above the checkpoint already settled, ascending.
    package var settled: [UInt64]

    package init(share: GroupShare, checkpoint: UInt64, settled: [UInt64]) {
        self.share = share
        self.checkpoint = checkpoint
        self.settled = settled
    }

    /// The whole of a group of an embedded store.
    package init(_ stored: StoredGroup) {
        self.init(share: .whole, checkpoint: stored.checkpoint, settled: stored.settled)
    }
}
