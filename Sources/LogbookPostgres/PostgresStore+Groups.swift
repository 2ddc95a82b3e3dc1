internal import Foundation
package import LogbookStorage
internal import Logging
internal import NIOCore
internal import PostgresNIO

/// Persistent groups that several daemons share (DESIGN §10).
///
/// A group's definition and progress live in `logbook_groups` and the tables beside it
/// (`PostgresSchema`). Each daemon that has consumers in a group claims a share of its
/// partitions (`claimGroup`), delivers only those partitions' streams, and saves its
/// progress fenced by the leases it delivered under (`saveGroupProgress`): each event is
/// settled by one daemon only, a stream's events go out from one daemon in order, and a
/// daemon that dies stops renewing, so its partitions pass to the others once its leases
/// expire, within the group's ack timeout.
extension PostgresStore {
    /// The columns `storedGroup` decodes, in order.
    private static let groupColumns = """
        g.name, g.selector_kind, g.selector_value, g.start_kind, g.start_position, g.filter_event_types,
        g.filter_stream_prefix, g.strategy, g.max_in_flight, g.ack_timeout_ms, g.max_deliveries, g.retry_backoff_ms,
        g.created_us,
        (SELECT coalesce(min(p.checkpoint), 0) FROM logbook_group_partitions p WHERE p.group_name = g.name),
        (SELECT count(*) FROM logbook_group_parked k WHERE k.group_name = g.name)
        """

    private typealias GroupColumns = (
        String, String, String, String, Int64, [String], String, String, Int64, Int64, Int64, Int64, Int64, Int64, Int64
    )

    /// How long a daemon's claim on a group lasts unless renewed; renewed three times in
    /// that span by the group's runtime.
    package static func groupLease(for definition: GroupDefinition) -> Duration {
        let share = Double(definition.ackTimeoutMilliseconds) * StorageLimits.groupLeaseShareOfAckTimeout
        let lease = Duration.milliseconds(Int64(share))
        return min(max(lease, StorageLimits.groupLeaseMin), StorageLimits.groupLeaseMax)
    }

    // MARK: Reading

    /// Every group, by name; each with the lowest checkpoint of its partitions.
    package func groups() async throws -> [StoredGroup] {
        let logger = self.logger
        return try await onReader(doing: "listing groups") { connection in
            var groups = [StoredGroup]()
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(Self.groupColumns) FROM logbook_groups g ORDER BY g.name"), logger: logger)
            for try await row in rows.decode(GroupColumns.self) {
                groups.append(try Self.storedGroup(row))
            }
            return groups
        }
    }

    /// One group, nil when there is none of that name.
    package func group(_ name: String) async throws -> StoredGroup? {
        let logger = self.logger
        return try await onReader(doing: "reading group '\(name)'") { connection in
            var bindings = PostgresBindings()
            bindings.append(name)
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(Self.groupColumns) FROM logbook_groups g WHERE g.name = $1", binds: bindings),
                logger: logger)
            for try await row in rows.decode(GroupColumns.self) {
                return try Self.storedGroup(row)
            }
            return nil
        }
    }

    private static func storedGroup(_ row: GroupColumns) throws -> StoredGroup {
        let (name, selectorKind, selectorValue, startKind, startPosition, types, prefix, strategyName,
             maxInFlight, ackTimeout, maxDeliveries, backoff, created, checkpoint, parked) = row
        func damaged(_ what: String) -> StorageError {
            StorageError.corrupt("the group '\(name)' in logbook_groups has \(what)")
        }
        guard let selector = GroupRowCodec.selector(kind: selectorKind, value: selectorValue) else {
            throw damaged("the unknown selector kind '\(selectorKind)'")
        }
        guard let start = GroupRowCodec.start(kind: startKind, position: startPosition) else {
            throw damaged("the start '\(startKind)' at \(startPosition)")
        }
        guard let strategy = GroupStrategy(rawValue: strategyName) else { throw damaged("the unknown strategy '\(strategyName)'") }
        func unsigned32(_ value: Int64, _ what: String) throws -> UInt32 {
            guard let value = UInt32(exactly: value) else { throw damaged("the \(what) \(value)") }
            return value
        }
        let definition = GroupDefinition(
            name: name, selector: selector, start: start, filter: ReadFilter(eventTypes: types, streamPrefix: prefix),
            strategy: strategy,
            maxInFlight: try unsigned32(maxInFlight, "max_in_flight"),
            ackTimeoutMilliseconds: try unsigned32(ackTimeout, "ack_timeout_ms"),
            maxDeliveries: try unsigned32(maxDeliveries, "max_deliveries"),
            retryBackoffMilliseconds: try unsigned32(backoff, "retry_backoff_ms"))
        guard let checkpoint = UInt64(exactly: checkpoint) else { throw damaged("the checkpoint \(checkpoint)") }
        return StoredGroup(
            definition: definition, checkpoint: checkpoint, settled: [], parkedCount: UInt64(clamping: parked),
            createdMicros: created)
    }

    /// At most `limit` parked events of the group above `after`, in position order, each
    /// with the event as the log holds it. Throws `.notFound` for no such group.
    package func parkedEvents(_ name: String, after: UInt64, limit: Int) async throws -> [ParkedEvent] {
        guard (1...StorageLimits.parkedEventsPerListMax).contains(limit) else {
            throw StorageError.invalidArgument("parked events limit must be 1…\(StorageLimits.parkedEventsPerListMax), not \(limit)")
        }
        guard try await group(name) != nil else { throw Self.groupNotFound(name) }
        let logger = self.logger
        let (after, limit) = (Int64(clamping: after), Int64(limit))
        return try await onReader(doing: "listing the parked events of '\(name)'") { connection in
            var parked = [ParkedEvent]()
            let rows = try await connection.query(
                """
                SELECT e.position, e.stream, e.revision, e.event_id, e.type, e.time_us, e.content_type, e.data, e.metadata,
                    e.correlation_id, e.causation_id, k.reason, k.attempts, k.parked_us
                FROM logbook_group_parked k JOIN logbook_events e ON e.position = k.position
                WHERE k.group_name = \(name) AND k.position > \(after)
                ORDER BY k.position LIMIT \(limit)
                """, logger: logger)
            for try await row in rows.decode(
                (Int64, String, Int64, ByteBuffer, String, Int64, String, ByteBuffer, ByteBuffer, String, String,
                 String, Int64, Int64).self)
            {
                let event = try PostgresRead.event((row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10))
                parked.append(ParkedEvent(
                    event: event, reason: row.11, attempts: UInt32(clamping: row.12), parkedMicros: row.13))
            }
            return parked
        }
    }

    /// How many events the group has parked. Throws `.notFound` for no such group.
    package func parkedCount(_ name: String) async throws -> UInt64 {
        guard let group = try await group(name) else { throw Self.groupNotFound(name) }
        return group.parkedCount
    }

    // MARK: Definitions

    /// Creates a group with every partition at its initial checkpoint and returns that
    /// checkpoint (for `.end`, the head as the statement sees it: later commits are after
    /// it). `.groupExists` when the name is taken.
    package func createGroup(_ definition: GroupDefinition) async throws -> UInt64 {
        try GroupValidator.validate(definition)
        let selector = GroupRowCodec.columns(of: definition.selector)
        let start = GroupRowCodec.columns(of: definition.start)
        let fromEnd = definition.start == .end
        let initial: Int64 = switch definition.start {
        case .start, .end: 0
        case .position(let position): Int64(clamping: position > 0 ? position - 1 : 0)
        }
        let (name, types, prefix) = (definition.name, definition.filter.eventTypes, definition.filter.streamPrefix)
        let settings = Self.settings(definition)
        let (created, partitions, logger) = (WallClock.nowMicros(), Int64(StorageLimits.groupPartitions), self.logger)
        let checkpoint = try await onReader(doing: "creating group '\(name)'") { connection -> Int64? in
            let rows = try await connection.query(
                """
                WITH g AS (
                    INSERT INTO logbook_groups VALUES (
                        \(name), \(selector.kind), \(selector.value), \(start.kind), \(start.position), \(types)::text[],
                        \(prefix), \(settings.strategy), \(settings.maxInFlight), \(settings.ackTimeout),
                        \(settings.maxDeliveries), \(settings.backoff), \(created),
                        CASE WHEN \(fromEnd) THEN (SELECT h.position FROM logbook_head h WHERE h.id = 1) ELSE \(initial) END)
                    ON CONFLICT (name) DO NOTHING
                    RETURNING name, initial_checkpoint),
                p AS (
                    INSERT INTO logbook_group_partitions (group_name, part, checkpoint)
                    SELECT g.name, s, g.initial_checkpoint FROM g, generate_series(0, \(partitions) - 1) AS s)
                SELECT initial_checkpoint FROM g
                """, logger: logger)
            for try await checkpoint in rows.decode(Int64.self) { return checkpoint }
            return nil
        }
        guard let checkpoint else {
            throw StorageError(code: .groupExists, message: "a group named '\(name)' already exists")
        }
        return UInt64(clamping: checkpoint)
    }

    private static func settings(_ definition: GroupDefinition) -> (
        strategy: String, maxInFlight: Int64, ackTimeout: Int64, maxDeliveries: Int64, backoff: Int64
    ) {
        (definition.strategy.rawValue, Int64(definition.maxInFlight), Int64(definition.ackTimeoutMilliseconds),
         Int64(definition.maxDeliveries), Int64(definition.retryBackoffMilliseconds))
    }

    /// Replaces a group's settings; its selector, start and filter cannot change. The
    /// other daemons restart their runtimes of it when they next look (`groups()`).
    package func updateGroup(_ definition: GroupDefinition) async throws {
        try GroupValidator.validate(definition)
        let name = definition.name
        guard let stored = try await group(name) else { throw Self.groupNotFound(name) }
        guard stored.definition.selector == definition.selector, stored.definition.start == definition.start,
              stored.definition.filter == definition.filter
        else {
            throw StorageError.invalidArgument("""
                the selector, start and filter of group '\(name)' cannot change; delete the group and create it again
                """)
        }
        let settings = Self.settings(definition)
        let logger = self.logger
        let updated = try await onReader(doing: "updating group '\(name)'") { connection in
            let rows = try await connection.query(
                """
                UPDATE logbook_groups SET strategy = \(settings.strategy), max_in_flight = \(settings.maxInFlight),
                    ack_timeout_ms = \(settings.ackTimeout), max_deliveries = \(settings.maxDeliveries),
                    retry_backoff_ms = \(settings.backoff)
                WHERE name = \(name) RETURNING 1
                """, logger: logger)
            for try await _ in rows.decode(Int.self) { return true }
            return false
        }
        guard updated else { throw Self.groupNotFound(name) }
    }

    /// Removes a group with its progress, its parked events and its leases.
    package func deleteGroup(_ name: String) async throws {
        try GroupValidator.validateName(name)
        let logger = self.logger
        let deleted: Bool
        do {
            deleted = try await onReader(doing: "deleting group '\(name)'") { connection in
                let rows = try await connection.query("DELETE FROM logbook_groups WHERE name = \(name) RETURNING 1", logger: logger)
                for try await _ in rows.decode(Int.self) { return true }
                return false
            }
        } catch let error as StorageError where (error.cause as? PSQLError)?.serverInfo?[.sqlState] == "23503" {
            // The views' foreign key: a group that writes views keeps them a writer.
            let owned = try await views().filter { $0.group == name }.map { "'\($0.name)'" }
            throw StorageError(
                code: .failedPrecondition,
                message: "group '\(name)' writes the views \(owned.joined(separator: ", ")); drop them first")
        }
        guard deleted else { throw Self.groupNotFound(name) }
    }

    /// Sets every partition's checkpoint to `position`, or to the group's initial one when
    /// nil, forgets the settled positions, and raises every lease's epoch: saves decided
    /// before the reset, on any daemon, are refused, and each daemon claims again.
    /// Parked events stay parked; with `clearViews`, the documents of the group's views
    /// go in the same transaction. Returns the new checkpoint.
    @discardableResult
    package func resetGroup(_ name: String, to position: UInt64?, clearViews: Bool) async throws -> UInt64 {
        try GroupValidator.validateName(name)
        if let position { try GroupValidator.validatePosition(position, what: "checkpoint", allowsZero: true) }
        let target = position.map { Int64(clamping: $0) }
        let logger = self.logger
        let checkpoint = try await onReader(doing: "resetting group '\(name)'") { connection -> Int64? in
            let rows = try await connection.query(
                "SELECT logbook_reset_group(\(name), \(target)::bigint, \(clearViews))", logger: logger)
            for try await checkpoint in rows.decode(Int64?.self) { return checkpoint }
            return nil
        }
        guard let checkpoint else { throw Self.groupNotFound(name) }
        return UInt64(clamping: checkpoint)
    }

    // MARK: Shares

    /// Renews this daemon's claim on the group and returns what it holds, with the
    /// progress its deliveries start from; nil for no such group. `wanted`: the daemon
    /// has consumers in the group. Without them it holds nothing, so the daemons that
    /// have some deliver everything.
    package func claimGroup(_ name: String, wanted: Bool, lease: Duration) async throws -> GroupClaim? {
        let (daemon, logger) = (self.daemonID, self.logger)
        let leaseMilliseconds = lease.components.seconds * 1_000 + lease.components.attoseconds / 1_000_000_000_000_000
        return try await onReader(doing: "claiming group '\(name)'") { connection -> GroupClaim? in
            var floor: UInt64?
            var leases = [Int: GroupShare.Lease]()
            var settled = [UInt64]()
            let rows = try await connection.query(
                "SELECT * FROM logbook_lease_group(\(name), \(daemon), \(wanted), \(leaseMilliseconds))", logger: logger)
            for try await (kind, part, epoch, position) in rows.decode((UInt8, Int32?, Int64?, Int64?).self) {
                switch (kind, part, epoch, position) {
                case (UInt8(ascii: "g"), _, _, let position):
                    floor = UInt64(clamping: position ?? 0)
                case (UInt8(ascii: "p"), let part?, let epoch?, let position?):
                    leases[Int(part)] = GroupShare.Lease(epoch: UInt64(clamping: epoch), checkpoint: UInt64(clamping: position))
                case (UInt8(ascii: "s"), _, _, let position?):
                    settled.append(UInt64(clamping: position))
                default:
                    throw StorageError.corrupt("logbook_lease_group returned a row of kind \(kind) it should not")
                }
            }
            guard let floor else { return nil }
            let checkpoint = leases.values.map(\.checkpoint).min() ?? floor
            return GroupClaim(share: GroupShare(leases: leases), checkpoint: checkpoint, settled: settled)
        }
    }

    /// Persists what a group's state machine settled over `share`, in one transaction
    /// that first checks every lease of the share is still this daemon's under the same
    /// epoch: `.failedPrecondition` when one has moved (the deliveries behind the save are
    /// another daemon's now, and it will deliver them again), and nothing is written.
    /// Returns the lowest checkpoint of the share's partitions.
    @discardableResult
    package func saveGroupProgress(
        _ name: String, checkpoint: UInt64, settled: [UInt64], parked: [ParkedRecord], unparked: [UInt64],
        viewWrites: [ViewWrite], share: GroupShare
    ) async throws -> UInt64 {
        try ViewValidator.validateShape(viewWrites, countMax: StorageLimits.viewWritesPerSaveMax)
        let views = Self.columns(of: viewWrites)
        let progress = try GroupValidator.validate(GroupProgress(
            name: name, checkpoint: checkpoint, settled: settled, parked: parked, unparked: unparked))
        let leases = (share.leases ?? [:]).sorted { $0.key < $1.key }
        let parts = leases.map { Int32($0.key) }
        let epochs = leases.map { Int64(clamping: $0.value.epoch) }
        let checkpoint = Int64(clamping: progress.checkpoint)
        let settled = progress.settled.map { Int64(clamping: $0) }
        let parkedPositions = progress.parked.map { Int64(clamping: $0.position) }
        let reasons = progress.parked.map(\.reason)
        let attempts = progress.parked.map { Int64($0.attempts) }
        let unparked = progress.unparked.map { Int64(clamping: $0) }
        let (daemon, time, logger) = (self.daemonID, WallClock.nowMicros(), self.logger)
        let saved = try await onReader(doing: "saving the progress of group '\(name)'") { connection -> Int64 in
            let rows = try await connection.query(
                """
                SELECT logbook_save_group(\(name), \(daemon), \(parts)::integer[], \(epochs)::bigint[], \(checkpoint),
                    \(settled)::bigint[], \(parkedPositions)::bigint[], \(reasons)::text[], \(attempts)::bigint[],
                    \(unparked)::bigint[], \(time), \(views.views)::text[], \(views.keys)::text[], \(views.ops)::text[],
                    \(views.bodies)::text[])
                """, logger: logger)
            for try await saved in rows.decode(Int64.self) { return saved }
            throw StorageError.corrupt("logbook_save_group returned no row")
        }
        return UInt64(clamping: saved)
    }

    private static func groupNotFound(_ name: String) -> StorageError {
        StorageError(code: .notFound, message: "group '\(name)' does not exist")
    }

    /// Runs one statement of the group calls on a reader's connection, as a storage error
    /// when it fails.
    func onReader<T: Sendable>(
        doing: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await reader().timed(body)
        } catch {
            throw PostgresErrors.storageError(error, doing: doing)
        }
    }
}
