internal import Logging
internal import LogbookStorage
internal import LogbookWire
internal import NIOPosix
internal import Synchronization

/// Every persistent subscription group of the daemon: starts their runtimes, serves the
/// Admin calls about them, and lets Subscribe(group) calls join them.
final class GroupManager: Sendable {
    private let store: EventStore
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private let runtimes = Mutex<[String: (runtime: GroupRuntime, task: Task<Void, Never>)]>([:])
    private let consumerIDs = Atomic<UInt64>(0)

    init(store: EventStore, threadPool: NIOThreadPool, logger: Logger) {
        self.store = store
        self.threadPool = threadPool
        self.logger = logger
    }

    /// Starts a runtime for every group the store holds.
    func start() throws {
        for group in try self.store.groups() {
            self.startRuntime(group)
        }
    }

    /// Stops every runtime (consumers are told UNAVAILABLE) and waits for them.
    func stop() async {
        let all = self.runtimes.withLock { runtimes in
            defer { runtimes.removeAll() }
            return Array(runtimes.values)
        }
        for entry in all {
            entry.runtime.send(.stop(Status(code: .unavailable, message: "the server is shutting down")))
        }
        for entry in all {
            await entry.task.value
        }
    }

    func nextConsumerID() -> UInt64 {
        self.consumerIDs.wrappingAdd(1, ordering: .relaxed).newValue
    }

    func runtime(_ name: String) -> GroupRuntime? {
        self.runtimes.withLock { $0[name]?.runtime }
    }

    private func startRuntime(_ stored: StoredGroup) {
        let runtime = GroupRuntime(stored: stored, store: self.store, threadPool: self.threadPool, logger: self.logger)
        let task = Task { await runtime.run(from: stored) }
        self.runtimes.withLock { $0[stored.definition.name] = (runtime, task) }
    }

    private func stopRuntime(_ name: String, status: Status) async {
        guard let entry = self.runtimes.withLock({ $0.removeValue(forKey: name) }) else { return }
        entry.runtime.send(.stop(status))
        await entry.task.value
    }

    // MARK: Admin

    func create(_ settings: LogbookWire.GroupSettings, limits: Limits) async throws -> GroupInfo {
        let definition = try GroupConversions.definition(settings, limits: limits)
        _ = try await self.store.createGroup(definition)
        guard let stored = try self.store.group(definition.name) else {
            throw CallError(.internal, "group \(definition.name) vanished after it was created")
        }
        self.startRuntime(stored)
        return try self.info(definition.name)
    }

    /// New settings take effect by restarting the group: its consumers are told to reconnect.
    func update(_ settings: LogbookWire.GroupSettings, limits: Limits) async throws -> GroupInfo {
        let definition = try GroupConversions.definition(settings, limits: limits)
        try await self.store.updateGroup(definition)
        await self.stopRuntime(definition.name, status: Status(code: .unavailable, message: "the group's settings changed; reconnect"))
        guard let stored = try self.store.group(definition.name) else {
            throw CallError(.notFound, "no subscription group named \(definition.name)")
        }
        self.startRuntime(stored)
        return try self.info(definition.name)
    }

    func delete(_ name: String) async throws {
        guard self.runtime(name) != nil else {
            throw CallError(.notFound, "no subscription group named \(name)")
        }
        await self.stopRuntime(name, status: Status(code: .notFound, message: "the subscription group \(name) was deleted"))
        try await self.store.deleteGroup(name)
    }

    func list() throws -> [GroupInfo] {
        try self.store.groups().map { try self.info($0) }
    }

    func info(_ name: String) throws -> GroupInfo {
        guard let stored = try self.store.group(name) else {
            throw CallError(.notFound, "no subscription group named \(name)")
        }
        return try self.info(stored)
    }

    private func info(_ stored: StoredGroup) throws -> GroupInfo {
        let snapshot = self.runtime(stored.definition.name)?.snapshot
        let checkpoint = max(snapshot?.checkpoint ?? 0, stored.checkpoint)
        let head = self.store.headPosition
        return GroupInfo(
            settings: GroupConversions.settings(stored.definition),
            checkpoint: checkpoint,
            lag: head > checkpoint ? head - checkpoint : 0,
            consumers: UInt32(snapshot?.consumers ?? 0),
            inFlight: UInt32(snapshot?.inFlight ?? 0),
            parked: try self.store.parkedCount(stored.definition.name)
        )
    }

    func reset(_ name: String, to position: UInt64?, clearViews: Bool) async throws {
        guard let runtime = self.runtime(name) else {
            throw CallError(.notFound, "no subscription group named \(name)")
        }
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            runtime.send(.reset(to: position, clearViews: clearViews, done: done))
        }
    }

    func parked(_ name: String, after: UInt64, limit: Int) throws -> [LogbookWire.ParkedEvent] {
        guard self.runtime(name) != nil else {
            throw CallError(.notFound, "no subscription group named \(name)")
        }
        return try self.store.parkedEvents(name, after: after, limit: limit).map(GroupConversions.parkedEvent)
    }

    func replayParked(_ name: String) throws {
        guard let runtime = self.runtime(name) else {
            throw CallError(.notFound, "no subscription group named \(name)")
        }
        runtime.send(.replayParked)
    }
}
