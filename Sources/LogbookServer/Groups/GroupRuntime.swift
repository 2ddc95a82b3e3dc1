internal import Logging
internal import LogbookStorage
internal import LogbookWire
internal import NIOPosix
internal import Synchronization

/// One persistent group at run time: its state machine, its consumers, and the driver task
/// that feeds the machine from the log and carries out what it decides.
///
/// Everything that changes the machine goes through one inbox and one task, so decisions
/// and their persistence happen in order without locks around the machine. Each pass takes
/// every command waiting, applies them, loads more of the log if there is room, sends the
/// deliveries that need nothing from disk, persists what became settled or parked in one
/// storage write, and only then confirms settlements to consumers (`Settled`: a confirmed
/// ack survives a `kill -9`) and sends the deliveries that wait for them.
final class GroupRuntime: Sendable {
    typealias Machine = GroupStateMachine<LoadedEvent>
    typealias ConsumerID = Machine.ConsumerID

    /// What a consumer's call receives.
    enum ConsumerMessage: Sendable {
        case deliveries([Machine.Delivery])
        case settled([UInt64])
        case ended(Status)
    }

    typealias Sink = AsyncStream<ConsumerMessage>.Continuation

    enum Command: Sendable {
        case join(ConsumerID, maxInFlight: Int?, Sink)
        case leave(ConsumerID)
        /// Settles deliveries; `viewWrites` are applied in the same storage write, or, when
        /// one of them is refused, the ack is not applied and the consumer's call ends.
        case ack(ConsumerID, [UInt64], viewWrites: [LogbookStorage.ViewWrite])
        /// An ack that could not be read (a malformed view write): ends the consumer's call.
        case refuseAck(ConsumerID, Status)
        case nack(ConsumerID, [UInt64], Machine.NackAction, String)
        case head(UInt64)
        case replayParked
        case reset(to: UInt64?, clearViews: Bool, done: CheckedContinuation<Void, any Error>)
        /// Time to renew the daemon's claim on a shared group (`GroupShare`).
        case renew
        case stop(Status)
    }

    /// What `info` reports without asking the driver.
    struct Snapshot: Sendable {
        var checkpoint: UInt64
        var consumers: Int = 0
        var inFlight: Int = 0
    }

    let definition: GroupDefinition
    private let policy: GroupPolicy
    private let store: any ServedStore
    private let threadPool: NIOThreadPool
    private let limits: Limits
    private let logger: Logger
    private let inbox = GroupInbox<Command>()
    private let snapshotState: Mutex<Snapshot>
    /// How long a claim on a shared group lasts; nil for an embedded store's.
    private let lease: Duration?
    /// The checkpoint as far as it is on disk with the view writes it covers: what a query
    /// of the group's views reports and waits for. The group manager's, which outlives
    /// this runtime when the group restarts.
    private let checkpoint: PositionWatch

    init(
        stored: StoredGroup, checkpoint: PositionWatch, store: any ServedStore, threadPool: NIOThreadPool, limits: Limits,
        logger: Logger
    ) {
        self.definition = stored.definition
        self.policy = GroupPolicy(stored.definition, limits: limits)
        self.store = store
        self.threadPool = threadPool
        self.limits = limits
        var logger = logger
        logger[metadataKey: "group"] = "\(stored.definition.name)"
        self.logger = logger
        self.snapshotState = Mutex(Snapshot(checkpoint: stored.checkpoint))
        self.lease = store.groupLease(for: stored.definition)
        self.checkpoint = checkpoint
    }

    var snapshot: Snapshot { self.snapshotState.withLock { $0 } }

    func send(_ command: Command) {
        self.inbox.send(command)
    }

    /// A runtime that could not start (its group was deleted meanwhile, or its store
    /// failed) still answers: consumers that join are ended with why, a reset fails, until
    /// the group manager stops it.
    private func refuseUntilStopped(_ status: Status) async {
        while let commands = await self.inbox.take(until: nil) {
            for command in commands {
                switch command {
                case .join(_, _, let sink):
                    sink.yield(.ended(status))
                    sink.finish()
                case .reset(_, _, let done):
                    done.resume(throwing: CallError(status))
                case .stop:
                    self.inbox.close()
                    return
                default:
                    break
                }
            }
        }
    }

    // MARK: The driver

    /// Runs until `.stop`.
    func run() async {
        var driver: Driver
        do {
            driver = try await Driver(runtime: self)
        } catch {
            self.logger.error("group cannot start", metadata: ["error": "\(error)"])
            await self.refuseUntilStopped(CallError(error).status)
            return
        }
        let heads = Task {
            for await head in self.store.headPositions() {
                self.inbox.send(.head(head))
            }
        }
        defer { heads.cancel() }
        let renewals = self.lease.map { lease in
            Task {
                while (try? await Task.sleep(for: lease / 3)) != nil {
                    self.inbox.send(.renew)
                }
            }
        }
        defer { renewals?.cancel() }
        while let commands = await self.inbox.take(until: driver.machine.nextWakeUp) {
            guard await driver.pass(commands) else { break }
            // A share's checkpoint is not the group's: the group manager reads a shared
            // group's from the store.
            let checkpoint = driver.share.isWhole ? driver.machine.checkpoint : 0
            self.snapshotState.withLock {
                $0 = Snapshot(checkpoint: checkpoint, consumers: driver.machine.consumerCount, inFlight: driver.machine.inFlightCount)
            }
            // Every pass ends with its settlements (and their view writes) on disk, or with
            // the machine reloaded from disk: the checkpoint is safe to publish.
            if driver.share.isWhole { self.checkpoint.publish(checkpoint) }
        }
        if driver.deleted {
            // Until the manager, following the store, stops this runtime.
            let status = Status(code: .notFound, message: "the subscription group \(self.definition.name) was deleted")
            driver.endConsumers(status)
            await self.refuseUntilStopped(status)
            return
        }
        self.inbox.close()
    }

    /// The driver's own state; lives in the driver task only.
    private struct Driver {
        let runtime: GroupRuntime
        var machine: Machine
        /// What the machine delivers of the group: the whole of it, or the partitions this
        /// daemon holds of a shared one. The machine was built for this share, and saves
        /// name it.
        var share: GroupShare
        /// Whether the daemon's claim says it has consumers (a shared group's partitions go
        /// only to daemons that do).
        var wanted = false
        var sinks: [ConsumerID: (sink: Sink, maxInFlight: Int?)] = [:]
        var head: UInt64
        /// The position after which the next page of parked events is read, while a replay runs.
        var replayAfter: UInt64?
        var replayedStreams: Set<String> = []
        /// The group is gone from the store (a save found it deleted): the driver stops.
        var deleted = false

        init(runtime: GroupRuntime) async throws {
            self.runtime = runtime
            self.head = runtime.store.headPosition
            guard let claim = try await runtime.claim(wanted: false) else {
                throw CallError(.notFound, "no subscription group named \(runtime.definition.name)")
            }
            self.share = claim.share
            self.machine = Machine(
                settings: runtime.policy,
                checkpoint: claim.checkpoint,
                settledAbove: Set(claim.settled),
                heldStreams: try await runtime.parkedStreams(of: claim.share)
            )
        }

        /// One pass over the commands that arrived; false when the group stops.
        mutating func pass(_ commands: [Command]) async -> Bool {
            let now = ContinuousClock.now
            var outputs: [Machine.Output] = []
            var confirm: [ConsumerID: [UInt64]] = [:]
            var viewWrites: [LogbookStorage.ViewWrite] = []
            /// by_stream: the streams with a settlement in this pass, not on disk yet.
            var settling: Set<String> = []
            // The view writes of every ack in the pass, checked together (one round trip
            // on a shared store); each ack takes its verdict in turn below.
            var refusals = await self.viewWriteRefusals(commands).makeIterator()
            for command in commands {
                switch command {
                case .join(let consumer, let maxInFlight, let sink):
                    self.sinks[consumer] = (sink, maxInFlight)
                    outputs += self.machine.join(consumer, maxInFlight: maxInFlight, now: now)
                case .leave(let consumer):
                    self.sinks[consumer] = nil
                    outputs += self.machine.leave(consumer, now: now)
                case .ack(let consumer, let ids, let writes):
                    let held = ids.filter { self.machine.holds(consumer, $0) }
                    if !writes.isEmpty {
                        switch self.checkViewWrites(ids: ids, held: held, refusal: refusals.next() ?? nil) {
                        case .apply:
                            viewWrites += writes
                        case .drop:
                            continue
                        case .refuse(let status):
                            outputs += self.endConsumer(consumer, status, now: now)
                            continue
                        }
                    }
                    confirm[consumer, default: []] += held
                    self.noteSettling(held, in: &settling)
                    outputs += self.machine.ack(consumer, held, now: now)
                case .refuseAck(let consumer, let status):
                    outputs += self.endConsumer(consumer, status, now: now)
                case .nack(let consumer, let ids, let action, let reason):
                    let held = ids.filter { self.machine.holds(consumer, $0) }
                    if action != .retry {
                        confirm[consumer, default: []] += held
                        self.noteSettling(held, in: &settling)
                    }
                    outputs += self.machine.nack(consumer, held, action: action, reason: reason, now: now)
                case .head(let position):
                    self.head = max(self.head, position)
                case .replayParked:
                    self.replayAfter = self.replayAfter ?? 0
                case .reset(let position, let clearViews, let done):
                    // What this pass decided so far belongs to the machine the reset replaces:
                    // saved after the reset, it would move the checkpoint forwards again and
                    // put documents back into cleared views.
                    outputs.removeAll()
                    viewWrites.removeAll()
                    confirm.removeAll()
                    settling.removeAll()
                    do {
                        let checkpoint = try await self.runtime.store.resetGroup(
                            self.runtime.definition.name, to: position, clearViews: clearViews)
                        // Claimed again: on a shared group the reset moved every lease's epoch.
                        guard let claim = try await self.runtime.claim(wanted: self.wanted) else {
                            throw CallError(.notFound, "no subscription group named \(self.runtime.definition.name)")
                        }
                        outputs += self.restart(try await self.makeMachine(for: claim), now: now)
                        // The Admin reply reads the snapshot: it must not show the old checkpoint.
                        self.runtime.snapshotState.withLock { $0.checkpoint = checkpoint }
                        self.runtime.checkpoint.reset(to: checkpoint)
                        done.resume()
                    } catch {
                        done.resume(throwing: error)
                    }
                case .renew:
                    break  // below, once the commands are applied
                case .stop(let status):
                    for (_, consumer) in self.sinks {
                        consumer.sink.yield(.ended(status))
                        consumer.sink.finish()
                    }
                    return false
                }
            }
            outputs += self.machine.tick(now: now)
            outputs += await self.loadFromLog(now: now)
            let wasReplaying = self.replayAfter != nil
            outputs += await self.replayPage(now: now)
            let replayReadToTheEnd = wasReplaying && self.replayAfter == nil
            // Deliveries that need nothing from disk go out before the write, so consumers
            // work while it syncs; settlements are confirmed only once on disk.
            let (early, late) = self.split(outputs, settling: settling)
            self.send(early, confirm: [:])
            let persisted = await self.persist(outputs, viewWrites: viewWrites)
            guard persisted else {
                await self.reload(now: now)
                return !self.deleted
            }
            self.send(late, confirm: confirm)
            // Last, once this pass's settlements are saved under the share they were made
            // in. A daemon claims partitions as soon as it has a consumer, and gives them up
            // only at a renewal that finds none: a consumer that reconnects keeps them.
            let renewal = commands.contains { if case .renew = $0 { true } else { false } }
            if renewal || (!self.wanted && self.machine.consumerCount > 0) {
                self.send(await self.renewClaim(wanted: self.machine.consumerCount > 0, now: now), confirm: [:])
            }
            let unparked = outputs.contains { if case .unpark = $0 { true } else { false } }
            if persisted, unparked || replayReadToTheEnd {
                self.send(await self.releaseReplayedStreams(now: now), confirm: [:])
            }
            if self.machine.room > 0, self.machine.readCursor < self.head, !self.share.isEmpty {
                self.runtime.inbox.send(.head(self.head))  // more to load: come round again
            }
            return true
        }

        /// by_stream: the streams of these deliveries (about to be settled) wait for the
        /// settlement to be on disk before their next event goes out. Sent before, it could
        /// reach the consumer ahead of the settled event's redelivery after a crash, and the
        /// stream's order would not hold.
        private func noteSettling(_ deliveryIDs: [UInt64], in settling: inout Set<String>) {
            guard self.runtime.policy.strategy == .byStream else { return }
            for id in deliveryIDs {
                if let stream = self.machine.stream(ofDelivery: id) { settling.insert(stream) }
            }
        }

        /// The deliveries that may go out before this pass's write (`early`), and the rest
        /// (`late`): under by_stream, those of a stream with a settlement or a park in this
        /// pass. A consumer may then hold up to twice its `max_in_flight` of acked events
        /// not yet confirmed: the acks of one pass, and of what it was sent early meanwhile.
        private func split(_ outputs: [Machine.Output], settling: Set<String>) -> (early: [Machine.Output], late: [Machine.Output]) {
            var waiting = settling
            if self.runtime.policy.strategy == .byStream {
                for case .park(let parks) in outputs { waiting.formUnion(parks.map(\.stream)) }
            }
            var early: [Machine.Output] = []
            var late: [Machine.Output] = []
            for output in outputs {
                guard case .deliver(let consumer, let batch) = output else { continue }
                guard !waiting.isEmpty else {
                    early.append(output)
                    continue
                }
                let now = batch.filter { !waiting.contains($0.stream) }
                let later = batch.filter { waiting.contains($0.stream) }
                if !now.isEmpty { early.append(.deliver(consumer, now)) }
                if !later.isEmpty { late.append(.deliver(consumer, later)) }
            }
            return (early, late)
        }

        enum ViewWriteCheck {
            case apply
            /// A late or repeated ack (a delivery is no longer the consumer's): dropped whole,
            /// so no write is applied twice.
            case drop
            case refuse(Status)
        }

        /// What the store says of the view writes of each ack in `commands` that carries
        /// some, in order: nil when they are good, else why not.
        private func viewWriteRefusals(_ commands: [Command]) async -> [(any Error)?] {
            let acks = commands.compactMap { command -> (writes: [LogbookStorage.ViewWrite], deliveries: Int)? in
                guard case .ack(_, let ids, let writes) = command, !writes.isEmpty else { return nil }
                return (writes, ids.count)
            }
            guard !acks.isEmpty else { return [] }
            return await self.runtime.store.viewWriteRefusals(acks, group: self.runtime.definition.name)
        }

        /// Whether an ack's view writes may be applied with it, given the store's `refusal`
        /// of them (nil: good).
        private func checkViewWrites(ids: [UInt64], held: [UInt64], refusal: (any Error)?) -> ViewWriteCheck {
            guard !ids.isEmpty else {
                return .refuse(Status(code: .invalidArgument, message: "Ack.view_writes ride an ack of at least one delivery"))
            }
            guard held.count == ids.count else { return .drop }
            if let error = refusal {
                let status = CallError(error).status
                let deliveries = ids.count <= 3
                    ? "delivery " + ids.map(String.init).joined(separator: ", ")
                    : "\(ids.count) deliveries (\(ids.min() ?? 0)…\(ids.max() ?? 0))"
                return .refuse(Status(
                    code: status.code,
                    message: "the ack of \(deliveries) was refused and nothing of it applied: \(status.message)"))
            }
            return .apply
        }

        /// Ends a consumer's call with `status` and takes it out of the group; what it held
        /// goes back to the others (or to it, when it joins again).
        private mutating func endConsumer(_ consumer: ConsumerID, _ status: Status, now: ContinuousClock.Instant) -> [Machine.Output] {
            if let entry = self.sinks.removeValue(forKey: consumer) {
                entry.sink.yield(.ended(status))
                entry.sink.finish()
            }
            return self.machine.leave(consumer, now: now)
        }

        /// After a failed storage write the machine may hold settlements that are not on
        /// disk: it starts again from what is, and consumers' deliveries become stale.
        private mutating func reload(now: ContinuousClock.Instant) async {
            let machine: Machine
            do {
                guard let claim = try await self.runtime.claim(wanted: self.wanted) else {
                    // Deleted, by another daemon sharing the store: no save can succeed now.
                    self.deleted = true
                    return
                }
                machine = try await self.makeMachine(for: claim)
            } catch {
                self.runtime.logger.error("group cannot reload its progress", metadata: ["error": "\(error)"])
                return
            }
            self.voidDeliveries(because: "the group's progress was not saved")
            self.send(self.restart(machine, now: now), confirm: [:])
            self.runtime.inbox.send(.head(self.head))
        }

        /// A new machine for `claim`, which becomes the driver's share; deliveries keep
        /// their ids rising, so acks of the old machine's are told apart.
        private mutating func makeMachine(for claim: GroupClaim) async throws -> Machine {
            let held = try await self.runtime.parkedStreams(of: claim.share)
            self.share = claim.share
            return Machine(
                settings: self.runtime.policy,
                checkpoint: claim.checkpoint,
                settledAbove: Set(claim.settled),
                heldStreams: held,
                firstDeliveryID: self.machine.upcomingDeliveryID
            )
        }

        /// Shared groups: renews the claim (taking partitions when consumers arrived,
        /// giving them up when the last left) and starts again over the new share when it
        /// changed. The deliveries of partitions kept are made again: they may have been
        /// settled meanwhile only by this daemon, whose saves the machine's restart lost
        /// nothing of (each pass saves before it ends).
        private mutating func renewClaim(wanted: Bool, now: ContinuousClock.Instant) async -> [Machine.Output] {
            guard self.runtime.lease != nil else {
                self.wanted = wanted  // the whole group is this daemon's already
                return []
            }
            do {
                guard let claim = try await self.runtime.claim(wanted: wanted) else { return [] }
                self.wanted = wanted
                // The checkpoints in the claim have moved with this daemon's own saves; only
                // a lease gained, lost or re-fenced calls for a new machine.
                guard !claim.share.holdsSameLeases(as: self.share) else { return [] }
                self.runtime.logger.debug("group share changed", metadata: [
                    "partitions": "\(claim.share.leases.map { $0.keys.sorted().map(String.init).joined(separator: ",") } ?? "all")",
                ])
                let machine = try await self.makeMachine(for: claim)
                self.runtime.inbox.send(.head(self.head))
                self.voidDeliveries(because: "this daemon's share of the group changed")
                return self.restart(machine, now: now)
            } catch {
                self.runtime.logger.warning("group cannot renew its claim", metadata: ["error": "\(error)"])
                return []
            }
        }

        /// Ends every consumer's call with `status`.
        mutating func endConsumers(_ status: Status) {
            for (_, entry) in self.sinks {
                entry.sink.yield(.ended(status))
                entry.sink.finish()
            }
            self.sinks.removeAll()
        }

        /// Ends the calls of the consumers that hold deliveries, before a restart makes those
        /// deliveries void: their acks would settle nothing and never be confirmed, so they
        /// are told to reconnect (the clients do), and the events come again.
        /// The machine they held them of is about to go, so it is not told.
        private mutating func voidDeliveries(because reason: String) {
            let status = Status(code: .unavailable, message: "\(reason): deliveries not yet confirmed come again; reconnect")
            for consumer in self.machine.holders {
                guard let entry = self.sinks.removeValue(forKey: consumer) else { continue }
                entry.sink.yield(.ended(status))
                entry.sink.finish()
            }
        }

        /// Starts `machine` in place of the current one (a reset, a reload); consumers stay
        /// and their old deliveries become stale (acks of them are ignored).
        private mutating func restart(_ machine: Machine, now: ContinuousClock.Instant) -> [Machine.Output] {
            self.machine = machine
            var outputs: [Machine.Output] = []
            for (consumer, entry) in self.sinks {
                outputs += self.machine.join(consumer, maxInFlight: entry.maxInFlight, now: now)
            }
            return outputs
        }

        private mutating func loadFromLog(now: ContinuousClock.Instant) async -> [Machine.Output] {
            let room = min(self.machine.room, self.runtime.limits.groupReadBatchEventsMax)
            guard room > 0, self.machine.readCursor < self.head, !self.share.isEmpty else { return [] }
            let definition = self.runtime.definition
            let request = LogbookStorage.ReadRequest(
                selector: definition.selector, start: .position(self.machine.readCursor + 1), direction: .forwards,
                limit: room, filter: definition.filter, asOfPosition: self.head
            )
            let events: [LogbookStorage.RecordedEvent]
            do {
                events = try await self.runtime.store.read(request, on: self.runtime.threadPool)
            } catch {
                self.runtime.logger.error("group cannot read the log", metadata: ["error": "\(error)"])
                return []
            }
            let scannedTo = events.count < room ? self.head : (events.last?.position ?? self.head)
            // Another daemon's partitions, and what a partition's own checkpoint settled,
            // count as not matched.
            let share = self.share
            let ours = share.isWhole ? events : events.filter { share.admits(stream: $0.stream, position: $0.position) }
            return self.machine.load(ours.map { ($0.position, $0.stream, LoadedEvent($0)) }, scannedTo: scannedTo, now: now)
        }

        /// Streams parked events back into the group a page at a time, never all at once.
        private mutating func replayPage(now: ContinuousClock.Instant) async -> [Machine.Output] {
            guard let after = self.replayAfter else { return [] }
            let room = min(self.machine.room, self.runtime.limits.groupReadBatchEventsMax)
            guard room > 0 else { return [] }
            do {
                let read = try await self.runtime.store.parkedEvents(self.runtime.definition.name, after: after, limit: room)
                guard let last = read.last else {
                    self.replayAfter = nil  // read to the end; releases follow as replays settle
                    return []
                }
                self.replayAfter = last.event.position
                let share = self.share
                let page = read.filter { share.owns(stream: $0.event.stream) }
                self.replayedStreams.formUnion(page.map { $0.event.stream })
                return self.machine.replay(page.map { ($0.event.position, $0.event.stream, LoadedEvent($0.event)) }, now: now)
            } catch {
                self.runtime.logger.error("group cannot read its parked events", metadata: ["error": "\(error)"])
                self.replayAfter = nil
                return []
            }
        }

        /// A replayed stream with nothing parked any more flows again (under by_stream its new
        /// events were held behind the parked ones). Checked once its unparks are on disk.
        private mutating func releaseReplayedStreams(now: ContinuousClock.Instant) async -> [Machine.Output] {
            // While the replay is still reading pages, more of these streams' parked events
            // may follow: checking then would scan the parked store on every pass for nothing.
            guard !self.replayedStreams.isEmpty, self.replayAfter == nil else { return [] }
            let stillParked: Set<String>
            do {
                stillParked = try await self.runtime.parkedStreams(of: self.share)
            } catch {
                self.runtime.logger.error("group cannot read its parked events", metadata: ["error": "\(error)"])
                return []
            }
            var outputs: [Machine.Output] = []
            for stream in self.replayedStreams where !stillParked.contains(stream) {
                self.replayedStreams.remove(stream)
                outputs += self.machine.release(stream, now: now)
            }
            return outputs
        }

        /// One storage write for everything this pass settled, parked or unparked, with the
        /// view writes of the acks that settled.
        private func persist(_ outputs: [Machine.Output], viewWrites: [LogbookStorage.ViewWrite]) async -> Bool {
            var checkpoint: UInt64?
            var settled: [UInt64] = []
            var parked: [ParkedRecord] = []
            var unparked: [UInt64] = []
            for output in outputs {
                switch output {
                case .settled(let positions, let newCheckpoint):
                    settled += positions
                    checkpoint = newCheckpoint
                case .park(let parks):
                    parked += parks.map { ParkedRecord(position: $0.position, reason: $0.reason, attempts: $0.attempts) }
                case .unpark(let positions):
                    unparked += positions
                case .deliver:
                    break
                }
            }
            guard checkpoint != nil || !parked.isEmpty || !unparked.isEmpty || !viewWrites.isEmpty else { return true }
            do {
                try await self.runtime.store.saveGroupProgress(
                    self.runtime.definition.name,
                    checkpoint: checkpoint ?? self.machine.checkpoint,
                    settled: settled,
                    parked: parked,
                    unparked: unparked,
                    viewWrites: viewWrites,
                    share: self.share
                )
                return true
            } catch {
                // Not confirmed, so consumers will see these again after a restart; say why.
                self.runtime.logger.error("group progress not saved", metadata: ["error": "\(error)"])
                return false
            }
        }

        /// Confirmations go before the deliveries sent with them.
        private func send(_ outputs: [Machine.Output], confirm: [ConsumerID: [UInt64]]) {
            for (consumer, ids) in confirm where !ids.isEmpty {
                self.sinks[consumer]?.sink.yield(.settled(ids))
            }
            for case .deliver(let consumer, let batch) in outputs {
                self.sinks[consumer]?.sink.yield(.deliveries(batch))
            }
        }
    }

    /// The streams of `share` that have events parked (held under by_stream), read page
    /// by page.
    private func parkedStreams(of share: GroupShare) async throws -> Set<String> {
        var streams: Set<String> = []
        var after: UInt64 = 0
        while true {
            let page = try await self.store.parkedEvents(
                self.definition.name, after: after, limit: self.limits.groupParkedPageEventsMax)
            guard let last = page.last else { return streams }
            streams.formUnion(page.lazy.map(\.event.stream).filter { share.owns(stream: $0) })
            after = last.event.position
        }
    }

    /// The daemon's claim on the group: the whole of it on an embedded store; on a
    /// shared one, the partitions it holds, renewed. Nil when the group is gone.
    private func claim(wanted: Bool) async throws -> GroupClaim? {
        try await self.store.claimGroup(self.definition.name, wanted: wanted, lease: self.lease ?? .zero)
    }
}

/// An event a group loaded, shared by reference: the machine keeps it until it settles and
/// every delivery of it carries it, so each of those copies is one retain instead of one
/// for each of the event's fields.
final class LoadedEvent: Sendable {
    let event: LogbookStorage.RecordedEvent

    init(_ event: LogbookStorage.RecordedEvent) {
        self.event = event
    }
}
