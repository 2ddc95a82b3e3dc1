internal import Logging
internal import LogbookStorage
internal import LogbookWire
internal import NIOPosix
internal import Synchronization

/// Every persistent subscription group of the daemon: starts their runtimes, serves the
/// Admin calls about them, and lets Subscribe(group) calls join them.
///
/// Each group's checkpoint watch outlives its runtimes: a query waiting for a view to
/// catch up keeps waiting on it while new settings restart the group, and is woken when
/// the group is deleted or the server stops.
///
/// On a store that other daemons share, they too create, change and delete groups: the
/// manager follows the store (`follow`), and a consumer of a group this daemon has not
/// seen yet starts its runtime at once.
final class GroupManager: Sendable {
    private struct Group {
        var runtime: GroupRuntime
        var task: Task<Void, Never>
    }

    private struct State {
        var groups: [String: Group] = [:]
        var checkpoints: [String: PositionWatch] = [:]
        /// Follows the other daemons' changes to groups, on a shared store.
        var follower: Task<Void, Never>?
        /// Shared store: the groups whose stored checkpoint moved since it was last read
        /// (`all`: any may have), and whether a task is reading them.
        var moved: Set<String> = []
        var allMoved = false
        var readingCheckpoints = false
    }

    private let store: any ServedStore
    private let threadPool: NIOThreadPool
    private let limits: Limits
    private let logger: Logger
    private let state = Mutex(State())
    private let consumerIDs = Atomic<UInt64>(0)

    init(store: any ServedStore, threadPool: NIOThreadPool, limits: Limits, logger: Logger) {
        self.store = store
        self.threadPool = threadPool
        self.limits = limits
        self.logger = logger
    }

    /// Starts a runtime for every group the store holds, and on a shared store follows
    /// the changes the other daemons make.
    func start() async throws {
        for group in try await self.store.groups() {
            self.startRuntime(group)
        }
        guard self.store.isShared else { return }
        // A shared group's checkpoint is the lowest of its partitions', which the daemons
        // move by turns: each save notifies, and the watches (what `min_position` waits
        // on) follow the stored value. A change of members or leases has each runtime
        // claim again at once, so partitions pass to a daemon that joins without waiting
        // for the next renewal.
        self.store.onGroupChange { [weak self] change in
            switch change {
            case .progress(let name): self?.checkpointMoved(name)
            case .members(let name): self?.running(name)?.send(.renew)
            case .unknown: self?.checkpointMoved(nil)
            }
        }
        let follower = Task { [weak self, interval = self.limits.groupFollowInterval] in
            while (try? await Task.sleep(for: interval)) != nil {
                guard let self else { return }
                await self.follow()
            }
        }
        self.state.withLock { $0.follower = follower }
    }

    /// Brings the runtimes in line with the groups in the store: starts those created
    /// elsewhere, restarts those whose settings changed (their consumers are told to
    /// reconnect), and stops those deleted.
    private func follow() async {
        let stored: [StoredGroup]
        do {
            stored = try await self.store.groups()
        } catch {
            self.logger.warning("cannot list the groups to follow the other daemons", metadata: ["error": "\(error)"])
            return
        }
        let running = self.state.withLock { $0.groups.mapValues(\.runtime.definition) }
        for group in stored {
            // A notification missed (the listener reconnecting) is caught up here.
            self.checkpoint(of: group.definition.name)?.publish(group.checkpoint)
            let name = group.definition.name
            if let definition = running[name], definition != group.definition {
                self.logger.info("group settings changed on another daemon; restarting it", metadata: [
                    "group": "\(name)", "running": "\(definition)", "stored": "\(group.definition)",
                ])
                await self.stopRuntime(name, status: Self.settingsChanged)
            }
            self.startRuntime(group)
        }
        let kept = Set(stored.map(\.definition.name))
        for name in running.keys where !kept.contains(name) {
            await self.stopRuntime(name, status: Self.deleted(name), deleted: true)
        }
    }

    /// Notes that the stored checkpoint of `name` (of every group, for nil) moved, and
    /// reads it unless a read is under way, which then goes round again.
    private func checkpointMoved(_ name: String?) {
        let start = self.state.withLock { state -> Bool in
            if let name { state.moved.insert(name) } else { state.allMoved = true }
            guard !state.readingCheckpoints else { return false }
            state.readingCheckpoints = true
            return true
        }
        if start { Task { await self.readMovedCheckpoints() } }
    }

    /// Reads the moved checkpoints until none has moved since the last read. Reads follow
    /// one another, each seeing what the one before saw or more, so a checkpoint lower
    /// than its watch's is a reset (the only move back), which the watch follows.
    private func readMovedCheckpoints() async {
        while true {
            let names = self.state.withLock { state -> [String]? in
                let names = state.allMoved ? Array(state.checkpoints.keys) : state.moved.filter { state.checkpoints[$0] != nil }
                (state.moved, state.allMoved) = ([], false)
                guard !names.isEmpty else {
                    state.readingCheckpoints = false
                    return nil
                }
                return names
            }
            guard let names else { return }
            do {
                for (name, stored) in try await self.store.groupCheckpoints(names) {
                    guard let watch = self.checkpoint(of: name) else { continue }
                    if stored < watch.value { watch.reset(to: stored) }
                    watch.publish(stored)
                }
            } catch {
                // The follower's next pass reads every group's checkpoint.
                self.logger.warning("cannot read the checkpoints of groups", metadata: ["error": "\(error)"])
            }
        }
    }

    private static let settingsChanged = Status(code: .unavailable, message: "the group's settings changed; reconnect")

    private static func deleted(_ name: String) -> Status {
        Status(code: .notFound, message: "the subscription group \(name) was deleted")
    }

    /// Stops every runtime (consumers are told UNAVAILABLE) and waits for them.
    func stop() async {
        let (all, checkpoints, follower) = self.state.withLock { state in
            defer { state = State() }
            return (Array(state.groups.values), Array(state.checkpoints.values), state.follower)
        }
        follower?.cancel()
        for group in all {
            group.runtime.send(.stop(CallError.shuttingDown.status))
        }
        for group in all {
            await group.task.value
        }
        for checkpoint in checkpoints {
            checkpoint.close()
        }
    }

    func nextConsumerID() -> UInt64 {
        self.consumerIDs.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// The group's running runtime; NOT_FOUND when there is no such group. On a shared
    /// store, a group another daemon created is started here the first time it is asked for.
    func runtime(_ name: String) async throws -> GroupRuntime {
        if let runtime = self.running(name) { return runtime }
        guard self.store.isShared, let stored = try await self.store.group(name) else { throw Self.notFound(name) }
        self.startRuntime(stored)
        guard let runtime = self.running(name) else { throw Self.notFound(name) }
        return runtime
    }

    private func running(_ name: String) -> GroupRuntime? {
        self.state.withLock { $0.groups[name]?.runtime }
    }

    private static func notFound(_ name: String) -> CallError {
        CallError(.notFound, "no subscription group named \(name)")
    }

    /// The group's checkpoint as far as it is on disk with the view writes it covers,
    /// across restarts of its runtime; nil for no such group.
    func checkpoint(of name: String) -> PositionWatch? {
        self.state.withLock { $0.checkpoints[name] }
    }

    /// Starts the group's runtime, unless one runs already.
    private func startRuntime(_ stored: StoredGroup) {
        let name = stored.definition.name
        self.state.withLock { state in
            guard state.groups[name] == nil else { return }
            let checkpoint = state.checkpoints[name] ?? PositionWatch(stored.checkpoint)
            checkpoint.publish(stored.checkpoint)
            let runtime = GroupRuntime(
                stored: stored, checkpoint: checkpoint, store: self.store, threadPool: self.threadPool, limits: self.limits,
                logger: self.logger)
            state.checkpoints[name] = checkpoint
            state.groups[name] = Group(runtime: runtime, task: Task { await runtime.run() })
        }
    }

    /// Stops the group's runtime and waits for it; with `deleted`, its checkpoint watch
    /// closes too (a restart keeps it).
    private func stopRuntime(_ name: String, status: Status, deleted: Bool = false) async {
        let (group, checkpoint) = self.state.withLock { state in
            (state.groups.removeValue(forKey: name), deleted ? state.checkpoints.removeValue(forKey: name) : nil)
        }
        if let group {
            group.runtime.send(.stop(status))
            await group.task.value
        }
        checkpoint?.close()
    }

    // MARK: Admin

    func create(_ settings: LogbookWire.GroupSettings) async throws -> GroupInfo {
        let definition = try GroupConversions.definition(settings, limits: self.limits)
        _ = try await self.store.createGroup(definition)
        guard let stored = try await self.store.group(definition.name) else {
            throw CallError(.internal, "group \(definition.name) vanished after it was created")
        }
        self.startRuntime(stored)
        return try await self.info(definition.name)
    }

    /// New settings take effect by restarting the group: its consumers are told to reconnect.
    func update(_ settings: LogbookWire.GroupSettings) async throws -> GroupInfo {
        let definition = try GroupConversions.definition(settings, limits: self.limits)
        try await self.store.updateGroup(definition)
        await self.stopRuntime(definition.name, status: Self.settingsChanged)
        guard let stored = try await self.store.group(definition.name) else { throw Self.notFound(definition.name) }
        self.startRuntime(stored)
        return try await self.info(definition.name)
    }

    func delete(_ name: String) async throws {
        _ = try await self.runtime(name)
        await self.stopRuntime(name, status: Self.deleted(name), deleted: true)
        try await self.store.deleteGroup(name)
    }

    func list() async throws -> [GroupInfo] {
        try await self.store.groups().map { try self.info($0) }
    }

    /// On a shared store, consumers and in-flight deliveries are this daemon's; the
    /// checkpoint and lag are the group's.
    func info(_ name: String) async throws -> GroupInfo {
        guard let stored = try await self.store.group(name) else { throw Self.notFound(name) }
        return try self.info(stored)
    }

    private func info(_ stored: StoredGroup) throws -> GroupInfo {
        let snapshot = self.running(stored.definition.name)?.snapshot
        let checkpoint = max(snapshot?.checkpoint ?? 0, stored.checkpoint)
        let head = self.store.headPosition
        return GroupInfo(
            settings: GroupConversions.settings(stored.definition),
            checkpoint: checkpoint,
            lag: head > checkpoint ? head - checkpoint : 0,
            consumers: UInt32(snapshot?.consumers ?? 0),
            inFlight: UInt32(snapshot?.inFlight ?? 0),
            parked: stored.parkedCount
        )
    }

    func reset(_ name: String, to position: UInt64?, clearViews: Bool) async throws {
        let runtime = try await self.runtime(name)
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            runtime.send(.reset(to: position, clearViews: clearViews, done: done))
        }
    }

    func parked(_ name: String, after: UInt64, limit: Int) async throws -> [LogbookWire.ParkedEvent] {
        _ = try await self.runtime(name)
        return try await self.store.parkedEvents(name, after: after, limit: limit).map(GroupConversions.parkedEvent)
    }

    /// On a shared store, the replay runs on the daemon asked, over the partitions it
    /// holds: parked events of the others' stay parked.
    func replayParked(_ name: String) async throws {
        try await self.runtime(name).send(.replayParked)
    }
}
