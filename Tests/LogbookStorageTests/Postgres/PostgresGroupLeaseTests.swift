internal import Foundation
@testable internal import LogbookPostgres
@testable internal import LogbookStorage
internal import PostgresNIO
internal import Synchronization
internal import Testing

/// A group shared by two stores, as by two daemons: how its partitions are claimed and
/// handed over, and the fence that keeps a daemon that lost a lease from settling.
@Suite(.enabled(if: PostgresFixture.isAvailable && StoreFixture.engine != .sqlite, "needs LOGBOOK_TEST_POSTGRES (scripts/test.sh starts a cluster); runs once, in the default storage run"))
struct PostgresGroupLeaseTests {
    private static let lease = Duration.seconds(30)
    private static let all = Set(0..<StorageLimits.groupPartitions)

    private static func definition(_ name: String, start: GroupStart = .start) -> GroupDefinition {
        GroupDefinition(
            name: name, selector: .all, start: start, filter: ReadFilter(), strategy: .byStream, maxInFlight: 8,
            ackTimeoutMilliseconds: 2_000, maxDeliveries: 3, retryBackoffMilliseconds: 50)
    }

    private static func partitions(_ claim: GroupClaim?) -> Set<Int> {
        Set(claim?.share.leases.map { Array($0.keys) } ?? [])
    }

    private static func code(_ body: () async throws -> Void) async -> StorageError.Code? {
        do {
            try await body()
            return nil
        } catch {
            return (error as? StorageError)?.code
        }
    }

    /// The first daemon with consumers takes every partition; a second that wants the group
    /// gets half once the first renews and lets them go; the first's next renewal without
    /// consumers hands over the rest.
    @Test func partitionsAreSharedAndHandedOver() async throws {
        try await PostgresFixture.withTwoStores { first, second in
            _ = try await first.createGroup(Self.definition("g"))
            #expect(Self.partitions(try await first.claimGroup("g", wanted: true, lease: Self.lease)) == Self.all)
            // The first holds every lease still: the second waits for it to let go.
            #expect(Self.partitions(try await second.claimGroup("g", wanted: true, lease: Self.lease)).isEmpty)
            let kept = Self.partitions(try await first.claimGroup("g", wanted: true, lease: Self.lease))
            let taken = Self.partitions(try await second.claimGroup("g", wanted: true, lease: Self.lease))
            #expect(kept.count == Self.all.count / 2)
            #expect(kept.isDisjoint(with: taken))
            #expect(kept.union(taken) == Self.all)
            #expect(Self.partitions(try await first.claimGroup("g", wanted: false, lease: Self.lease)).isEmpty)
            #expect(Self.partitions(try await second.claimGroup("g", wanted: true, lease: Self.lease)) == Self.all)
            #expect(try await first.claimGroup("nope", wanted: true, lease: Self.lease) == nil)
        }
    }

    /// A save made under a lease that has since moved is refused and writes nothing; the
    /// new owner's claim starts from the last save that was made under the lease.
    @Test func aSaveUnderALostLeaseIsRefused() async throws {
        try await PostgresFixture.withTwoStores { first, second in
            for n in 0..<20 { _ = try await first.append([Make.write("s-\(n)", .any, Make.events(1))]) }
            _ = try await first.createGroup(Self.definition("g"))
            let old = try #require(try await first.claimGroup("g", wanted: true, lease: Self.lease))
            try await first.saveGroupProgress(
                "g", checkpoint: 5, settled: [7], parked: [], unparked: [], viewWrites: [], share: old.share)
            // The first daemon stops renewing (it died); its leases run out.
            let short = try #require(try await first.claimGroup("g", wanted: true, lease: .milliseconds(1)))
            try await Task.sleep(for: .milliseconds(20))
            let taken = try #require(try await second.claimGroup("g", wanted: true, lease: Self.lease))
            #expect(Self.partitions(taken) == Self.all, "the expired member's partitions all pass on")
            #expect(taken.checkpoint == 5)
            #expect(taken.settled == [7])
            let refused = await Self.code {
                try await first.saveGroupProgress(
                    "g", checkpoint: 20, settled: [], parked: [], unparked: [], viewWrites: [], share: short.share)
            }
            #expect(refused == .failedPrecondition)
            #expect(try await first.group("g")?.checkpoint == 5, "the refused save wrote nothing")
            try await second.saveGroupProgress(
                "g", checkpoint: 20, settled: [], parked: [ParkedRecord(position: 12, reason: "poison", attempts: 3)],
                unparked: [], viewWrites: [], share: taken.share)
            let stored = try #require(try await second.group("g"))
            #expect(stored.checkpoint == 20)
            #expect(stored.parkedCount == 1)
            #expect(try await second.parkedEvents("g", after: 0, limit: 10).map(\.event.position) == [12])
        }
    }

    /// A reset moves every partition's checkpoint and every lease's epoch: a save decided
    /// before it is refused, and a claim after it starts from the reset.
    @Test func aResetFencesTheSavesDecidedBeforeIt() async throws {
        try await PostgresFixture.withTwoStores { first, _ in
            for n in 0..<10 { _ = try await first.append([Make.write("s-\(n)", .any, Make.events(1))]) }
            _ = try await first.createGroup(Self.definition("g"))
            let before = try #require(try await first.claimGroup("g", wanted: true, lease: Self.lease))
            #expect(try await first.resetGroup("g", to: 3, clearViews: false) == 3)
            let refused = await Self.code {
                try await first.saveGroupProgress(
                    "g", checkpoint: 10, settled: [], parked: [], unparked: [], viewWrites: [], share: before.share)
            }
            #expect(refused == .failedPrecondition)
            let after = try #require(try await first.claimGroup("g", wanted: true, lease: Self.lease))
            #expect(after.checkpoint == 3)
            #expect(after.share != before.share, "the epochs moved")
            try await first.saveGroupProgress(
                "g", checkpoint: 10, settled: [], parked: [], unparked: [], viewWrites: [], share: after.share)
            #expect(try await first.group("g")?.checkpoint == 10)
            // A renewal after the save returns the moved checkpoints under the same leases.
            let renewed = try #require(try await first.claimGroup("g", wanted: true, lease: Self.lease))
            #expect(renewed.share != after.share)
            #expect(renewed.share.holdsSameLeases(as: after.share))
            #expect(!renewed.share.holdsSameLeases(as: before.share))
        }
    }

    /// Definitions round-trip; a group from `.end` starts at the head; the name is unique;
    /// an update keeps what cannot change; deletion removes the group and its leases.
    @Test func definitionsAcrossStores() async throws {
        try await PostgresFixture.withTwoStores { first, second in
            for n in 0..<4 { _ = try await first.append([Make.write("s-\(n)", .any, Make.events(1))]) }
            var definition = Self.definition("g", start: .end)
            #expect(try await first.createGroup(definition) == 4)
            #expect(await Self.code { _ = try await second.createGroup(definition) } == .groupExists)
            #expect(try await second.group("g")?.definition == definition)
            definition.maxInFlight = 32
            try await second.updateGroup(definition)
            #expect(try await first.groups().map(\.definition) == [definition])
            var moved = definition
            moved.selector = .category("s")
            #expect(await Self.code { try await first.updateGroup(moved) } == .invalidArgument)
            try await second.deleteGroup("g")
            #expect(try await first.groups().isEmpty)
            #expect(await Self.code { try await first.deleteGroup("g") } == .notFound)
            #expect(await Self.code { _ = try await first.parkedEvents("g", after: 0, limit: 1) } == .notFound)
        }
    }

    /// Every daemon computes the same partition for a stream, and streams spread over all.
    @Test func partitionsFollowTheStreamName() {
        #expect(GroupShare.partition(of: "order-1") == GroupShare.partition(of: "order-1"))
        let used = Set((0..<1_000).map { GroupShare.partition(of: "order-\($0)") })
        #expect(used == Self.all)
        let share = GroupShare(leases: [GroupShare.partition(of: "a"): GroupShare.Lease(epoch: 1, checkpoint: 10)])
        #expect(share.owns(stream: "a"))
        #expect(!share.admits(stream: "a", position: 10), "at or below the partition's checkpoint: settled")
        #expect(share.admits(stream: "a", position: 11))
        #expect(GroupShare.whole.admits(stream: "anything", position: 1))
    }

    /// A claim that changes who holds what tells the other daemons ('m'), so they claim
    /// again at once; a renewal that changes nothing does not. Saves of a group that
    /// writes views tell them its progress moved ('p'), for the views' readers.
    @Test func claimsThatMoveLeasesAndSavesNotifyTheOthers() async throws {
        try await PostgresFixture.withTwoStores { first, second in
            let heard = Mutex([GroupChange]())
            second.onGroupChange { change in heard.withLock { $0.append(change) } }
            func waitFor(_ change: GroupChange) async -> Bool {
                let deadline = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < deadline {
                    if heard.withLock({ $0.contains(change) }) { return true }
                    try? await Task.sleep(for: .milliseconds(10))
                }
                return false
            }
            _ = try await first.createGroup(Self.definition("g"))
            try await first.defineView(ViewDefinition(name: "v", group: "g"))
            let claim = try #require(try await first.claimGroup("g", wanted: true, lease: Self.lease))
            #expect(await waitFor(.members("g")), "joining notifies")
            heard.withLock { $0.removeAll() }
            _ = try await first.claimGroup("g", wanted: true, lease: Self.lease)
            try await first.saveGroupProgress(
                "g", checkpoint: 0, settled: [], parked: [], unparked: [], viewWrites: [], share: claim.share)
            #expect(await waitFor(.progress("g")), "a save notifies")
            #expect(!heard.withLock { $0.contains(.members("g")) }, "a renewal that changed nothing does not")
            _ = try await first.claimGroup("g", wanted: false, lease: Self.lease)
            #expect(await waitFor(.members("g")), "leaving notifies")
        }
    }
}
