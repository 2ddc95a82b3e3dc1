internal import Foundation
internal import GRDB
internal import Logging
internal import SystemPackage

/// The log engine's writer: runs group commits into the segment log; lives on the log
/// writer thread only (`LogWriterThread`).
///
/// Every check is made in memory before anything is written: expected revisions
/// against the stream heads, event ids against the committed events not yet stored in
/// SQLite (`recent`) and then SQLite's unique event-id index, one read for the whole
/// batch. Accepted appends are encoded straight into one `LogBatch`, written with one
/// `pwritev` and one `fdatasync` (`SegmentLog.append`); only then do the heads move, the
/// events join the published tail and the appenders get their answers. The indexer
/// (`AppendWriter` in log mode) stores them in SQLite behind the commit.
///
/// Changes of a commit are kept aside (`Commit`) until the log says the batch is
/// durable, so a failed write leaves memory exactly as the disk.
final class LogAppender {
    /// Where an event that already exists sits.
    struct Existing {
        var stream: String
        var revision: UInt64
        var position: UInt64
        var timeMicros: Int64
    }

    /// How one append of a commit ended, before the commit is written.
    private enum Outcome {
        case appended(AppendResult)
        case replayed(AppendResult)
        case failed(StorageError)
    }

    /// One group commit being assembled.
    private struct Commit {
        var heads: [String: StreamHead] = [:]
        var types: Set<String> = []
        var categories: Set<String> = []
        var ids: [EventID: Existing] = [:]
        var events: [StoredEvent] = []
        var answers: [(PendingAppend, Outcome)] = []
        /// Lifecycle records of streams with rules that the commit's appends move.
        var rules: [String: StreamLifecycle] = [:]
        /// An append's records went into the batch only in part: the batch cannot be written.
        var poisoned = false
    }

    let log: SegmentLog
    let pool: DatabasePool
    let published: PublishedState
    /// The indexer's queue: nudged after every commit, watched for a fail-stop.
    let indexQueue: AppendQueue
    let queue: AppendQueue
    let logger: Logger
    private(set) var isStopped = false

    /// Stream heads: those of the streams written since open (or the tail at open),
    /// bounded, and those SQLite answered for (`loadMissingHeads`, `evictStored`).
    private var heads: StreamCache<StreamHead>
    /// The streams with lifecycle rules, all of them (few), each kept at its head; readers
    /// get a copy after each change (`sharedRules`).
    var rules: [String: StreamLifecycle]
    let sharedRules: StreamRules
    /// The spelling each event type and category was first written with (see
    /// `canonicalName`).
    private var typeSpellings: Set<String>
    private var categorySpellings: Set<String>
    private var headPosition: UInt64
    private var lastTimeMicros: Int64
    /// Committed events that SQLite may not hold yet, by id, and the same in commit
    /// order so they can be let go of once stored.
    private var recent: [EventID: Existing] = [:]
    private var recentOrder: [(position: UInt64, id: EventID)] = []
    private var recentStart = 0
    private var batch = LogBatch()
    private let commitBytesMax: Int
    /// Every id in the log, for the fast "certainly new" answer.
    private var filter: EventIDFilter
    /// Keeps `filter` on disk (`EventIDFilter+File`), so a start does not rebuild it.
    private let filterSaver: EventIDFilterSaver
    /// The id of the event at `headPosition`: the saved filter's anchor.
    private var headID: EventID?
    private var filterCountAtSave: Int

    init(
        log: SegmentLog, pool: DatabasePool, published: PublishedState, queue: AppendQueue, indexQueue: AppendQueue,
        heads: [String: StreamHead], rules: StreamRules, streamsCached: Int, typeSpellings: Set<String>, categorySpellings: Set<String>,
        headPosition: UInt64, lastTimeMicros: Int64, recent: [StoredEvent],
        filter: EventIDFilter, filterIsSaved: Bool, headID: EventID?, logger: Logger
    ) {
        self.filter = filter
        self.headID = headID
        filterSaver = EventIDFilterSaver(path: EventIDFilter.path(besides: log), logger: logger)
        filterCountAtSave = filter.count
        self.typeSpellings = typeSpellings
        self.categorySpellings = categorySpellings
        self.log = log
        self.pool = pool
        self.published = published
        self.queue = queue
        self.indexQueue = indexQueue
        self.sharedRules = rules
        self.rules = rules.current
        self.heads = StreamCache(capacity: streamsCached)
        for (name, head) in heads {
            self.heads[name] = head
        }
        self.headPosition = headPosition
        self.lastTimeMicros = lastTimeMicros
        self.logger = logger
        commitBytesMax = Int(log.configuration.syncReachBytes)
        for event in recent {
            remember(event)
        }
        if !filterIsSaved { saveFilter() }
    }

    /// Commits the appends (one or more group commits: a commit never passes the log's
    /// sync reach) and answers every one.
    func process(_ pending: [PendingWrite]) {
        forgetStored()
        evictStored()
        do {
            try loadMissingHeads(pending)
        } catch {
            for write in pending { write.fail(error) }
            return
        }
        let found: [EventID: Existing]
        do {
            found = try lookUpStored(pending)
        } catch {
            for write in pending { write.fail(error) }
            return
        }
        var commit = Commit()
        for write in pending {
            if case .lifecycle(let change) = write {
                // In commit order: what came before it is written first.
                finish(&commit)
                applyLifecycle(change)
                continue
            }
            guard case .append(let append) = write else {
                write.fail(StorageError(code: .internalError, message: "the log writer was given a group write"))
                continue
            }
            if isStopped {
                write.fail(StorageError.stopped("the log writer has stopped"))
                continue
            }
            if !commit.events.isEmpty, batch.bytes.count + Self.bytes(of: append.append) > commitBytesMax {
                finish(&commit)
            }
            let outcome = decide(append.append, in: &commit, found: found)
            commit.answers.append((append, outcome))
        }
        finish(&commit)
    }

    /// Writes the commit, then publishes and answers it; afterwards `commit` is empty.
    private func finish(_ commit: inout Commit) {
        defer {
            commit = Commit()
            batch.removeAll()
        }
        guard !commit.answers.isEmpty else { return }
        if !commit.events.isEmpty {
            do throws(StorageError) {
                guard !commit.poisoned else {
                    throw StorageError(code: .internalError, message: "an event could not be framed for the log")
                }
                try waitForTailSpace()
                _ = try log.append(&batch)
                log.metrics.committed(events: commit.events.count)
            } catch {
                if error.code == .stopped { stop(error) }
                for (append, _) in commit.answers { append.completion(.failure(error)) }
                return
            }
            apply(commit)
        }
        for (append, outcome) in commit.answers {
            switch outcome {
            case .appended(let result), .replayed(let result): append.completion(.success(result))
            case .failed(let error): append.completion(.failure(error))
            }
        }
    }

    private func apply(_ commit: Commit) {
        for (name, head) in commit.heads {
            heads[name] = head
        }
        if !commit.rules.isEmpty {
            rules.merge(commit.rules) { $1 }
            sharedRules.publish(rules)
        }
        typeSpellings.formUnion(commit.types)
        categorySpellings.formUnion(commit.categories)
        for event in commit.events {
            remember(event)
            filter.insert(event.id)
        }
        headPosition = commit.events.last?.position ?? headPosition
        headID = commit.events.last?.id ?? headID
        if filter.count > filter.capacity {
            growFilter()
        } else if filter.count - filterCountAtSave >= StorageLimits.eventIDFilterSaveEvents {
            saveFilter()
        }
        let chunk = TailChunk(events: commit.events)
        let unstored = published.publish(
            headPosition: headPosition, heads: commit.heads.lazy.map { ($0.key, $0.value) }, tail: chunk)
        // The indexer stores the tail in batches: woken when the tail starts (it then
        // waits its idle delay for more) and when a batch's worth has gathered.
        if unstored == chunk.events.count || unstored >= StorageLimits.storeBatchEvents { indexQueue.nudge() }
    }

    /// Checks one append against memory and the commit so far; if it can go in, encodes
    /// its events into the batch.
    private func decide(_ append: PreparedAppend, in commit: inout Commit, found: [EventID: Existing]) -> Outcome {
        func existing(_ id: EventID) -> Existing? {
            commit.ids[id] ?? recent[id] ?? found[id]
        }
        for write in append.writes {
            let head = self.head(of: write.stream, commit)
            if let refusal = StreamLifecycle.refusal(write, head: head, lifecycle: lifecycle(of: write.stream, commit)) {
                if let replay = replayResult(append, existing) { return .replayed(replay) }
                return .failed(refusal)
            }
        }
        for write in append.writes {
            for event in write.events {
                guard let found = existing(event.id) else { continue }
                if let replay = replayResult(append, existing) { return .replayed(replay) }
                return .failed(AppendErrors.conflict(event.id, (found.stream, found.revision)))
            }
        }
        let time = nextCommitTime()
        var results = [StreamWriteResult]()
        results.reserveCapacity(append.writes.count)
        for write in append.writes {
            let stream = canonicalName(write.stream, commit)
            let category = Self.spelling(StreamName.category(of: stream), known: categorySpellings, new: &commit.categories)
            let first = head(of: stream, commit).map { $0 + 1 } ?? 0
            var positions = [UInt64]()
            positions.reserveCapacity(write.events.count)
            for (offset, event) in write.events.enumerated() {
                let position = headPosition + UInt64(commit.events.count) + 1
                let type = Self.spelling(event.type, known: typeSpellings, new: &commit.types)
                let stored = StoredEvent(
                    position: position, stream: stream, category: category, revision: first + UInt64(offset),
                    id: event.id, type: type, timeMicros: time, contentType: event.contentType,
                    data: event.data, metadata: event.metadata,
                    correlationID: event.correlationID, causationID: event.causationID)
                do {
                    try batch.append(position: position, payloadBytes: EventRecord.length(of: stored)) { buffer in
                        EventRecord.encode(stored, into: buffer)
                    }
                } catch {
                    commit.poisoned = true
                    return .failed(error)
                }
                commit.events.append(stored)
                commit.ids[event.id] = Existing(stream: stream, revision: stored.revision, position: position, timeMicros: time)
                positions.append(position)
            }
            let last = first + UInt64(write.events.count) - 1
            commit.heads[stream] = StreamHead(revision: last, position: positions[positions.count - 1])
            if var lifecycle = lifecycle(of: stream, commit) {
                lifecycle.catchUp(head: last)
                commit.rules[stream] = lifecycle
            }
            results.append(StreamWriteResult(stream: write.stream, firstRevision: first, lastRevision: last, positions: positions))
        }
        return .appended(AppendResult(streams: results, commitTimeMicros: time))
    }

    /// The original result of a retried append whose reply was lost (`AppendReplay`).
    private func replayResult(_ append: PreparedAppend, _ existing: (EventID) -> Existing?) -> AppendResult? {
        AppendReplay.result(append) { write, id in
            guard let found = existing(id), found.stream == write.stream else { return nil }
            return AppendReplay.Found(revision: found.revision, position: found.position, timeMicros: found.timeMicros)
        }
    }

    /// The stream's lifecycle record if it has rules, as of the commit so far.
    private func lifecycle(of stream: String, _ commit: Commit) -> StreamLifecycle? {
        guard !rules.isEmpty else { return nil }
        return commit.rules[stream] ?? rules[stream]
    }

    /// The stream's entry in `heads`: its spelling and last revision (nil for a new stream).
    func headEntry(_ stream: String) -> (name: String, revision: UInt64)? {
        heads.lookUp(stream).map { ($0.name, $0.value.revision) }
    }

    /// The stream's head; nil for a new stream. Every stream the batch writes is in
    /// `heads` or new (`loadMissingHeads`).
    private func head(of stream: String, _ commit: Commit) -> UInt64? {
        commit.heads[stream]?.revision ?? heads.lookUp(stream)?.value.revision
    }

    /// The spelling a stream was first written with: Swift's dictionaries find a name
    /// under any canonically equivalent spelling, SQLite (through the stream's lookup
    /// key) answers with the stored one.
    private func canonicalName(_ stream: String, _ commit: Commit) -> String {
        if let entry = heads.lookUp(stream) { return entry.name }
        if let index = commit.heads.index(forKey: stream) { return commit.heads[index].key }
        return stream
    }

    /// Makes room in `heads`, between batches so that a batch keeps what
    /// `loadMissingHeads` loaded for it. Only heads SQLite holds may go: a stream whose
    /// newest event is still in the unstored tail would be answered a stale head by
    /// SQLite. `storedUpTo` only grows, and the indexer moves it after its COMMIT, so an
    /// entry at or below it is in SQLite for good.
    private func evictStored() {
        let stored = published.storedUpTo
        heads.evictIfFull { $0.position <= stored }
    }

    /// Looks up in SQLite the streams the batch writes that `heads` does not keep (one
    /// read transaction for all of them) and keeps those SQLite has.
    ///
    /// SQLite's answer is the stream's head, not an old one: an entry leaves `heads`
    /// only once SQLite holds its newest event (`evictStored`), and every later event of
    /// the stream would be written by this thread, which puts the stream back in `heads`
    /// when it commits it. So a stream missing from `heads` has all of its events in
    /// SQLite's committed state, which a read transaction begun now sees; and one SQLite
    /// does not know is new (the indexer stores a stream's row with its first event).
    /// A stream that was never in `heads` is the same case: at open `heads` holds every
    /// stream of the unstored tail. The lookup is by lookup key, so under any equivalent
    /// spelling, and `heads` then files the stream under its stored spelling.
    private func loadMissingHeads(_ pending: [PendingWrite]) throws(StorageError) {
        var missing = [String]()
        var seen = Set<String>()
        for write in pending {
            switch write {
            case .append(let append):
                for write in append.append.writes where heads[write.stream] == nil && seen.insert(write.stream).inserted {
                    missing.append(write.stream)
                }
            case .lifecycle(let change):
                if heads[change.stream] == nil, seen.insert(change.stream).inserted { missing.append(change.stream) }
            case .group:
                continue
            }
        }
        guard !missing.isEmpty else { return }
        let found: [StoredStreamHeads.Found]
        do {
            found = try pool.read { db in try missing.compactMap { try StoredStreamHeads.head(db, $0) } }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(code: .internalError, message: "stream head lookup failed: \(error)", cause: error)
        }
        for stream in found {
            heads[stream.name] = StreamHead(revision: stream.revision, position: 0)
        }
    }

    /// The spelling a type or category was first written with, as SQLite files it;
    /// `name` itself (noted in `new`) when it is new.
    private static func spelling(_ name: String, known: Set<String>, new: inout Set<String>) -> String {
        if let index = known.firstIndex(of: name) { return known[index] }
        if let index = new.firstIndex(of: name) { return new[index] }
        new.insert(name)
        return name
    }

    private func nextCommitTime() -> Int64 {
        lastTimeMicros = max(lastTimeMicros, WallClock.nowMicros())
        return lastTimeMicros
    }

    private func remember(_ event: StoredEvent) {
        recent[event.id] = Existing(
            stream: event.stream, revision: event.revision, position: event.position, timeMicros: event.timeMicros)
        recentOrder.append((event.position, event.id))
    }

    /// Lets go of the events SQLite now holds: its unique index answers for them.
    /// Reads `storedUpTo` before the batch's SQLite lookup, which then sees at least that.
    private func forgetStored() {
        let stored = published.storedUpTo
        while recentStart < recentOrder.count, recentOrder[recentStart].position <= stored {
            recent[recentOrder[recentStart].id] = nil
            recentStart += 1
        }
        if recentStart > 4_096, recentStart * 2 > recentOrder.count {
            recentOrder.removeFirst(recentStart)
            recentStart = 0
        }
    }

    /// Where SQLite has any of the batch's event ids that memory does not know and the
    /// filter does not rule out: one read transaction for the whole batch, through the
    /// unique event-id index. Fresh ids (nearly all) never get here.
    private func lookUpStored(_ pending: [PendingWrite]) throws -> [EventID: Existing] {
        var ids = [EventID]()
        for write in pending {
            guard case .append(let append) = write else { continue }
            for write in append.append.writes {
                for event in write.events where recent[event.id] == nil && filter.mightContain(event.id) {
                    ids.append(event.id)
                }
            }
        }
        guard !ids.isEmpty else { return [:] }
        do {
            return try pool.read { db in
                let statement = try db.cachedStatement(sql: Schema.SQL.findEvent)
                var found = [EventID: Existing]()
                for id in ids {
                    guard let row = try Row.fetchOne(statement, arguments: [id.data]) else { continue }
                    let revision: Int64 = try row.decode(atIndex: 1)
                    let position: Int64 = try row.decode(atIndex: 2)
                    guard let revision = UInt64(exactly: revision), let position = UInt64(exactly: position) else {
                        throw StorageError.corrupt("negative revision or position in the events table")
                    }
                    found[id] = Existing(
                        stream: try row.decode(atIndex: 4), revision: revision, position: position,
                        timeMicros: try row.decode(atIndex: 3))
                }
                return found
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(code: .internalError, message: "event id lookup failed: \(error)", cause: error)
        }
    }

    /// Rebuilds the filter at twice the size once it holds more ids than it was sized
    /// for. A failure keeps the old one: fuller, so more lookups, but never wrong.
    private func growFilter() {
        do {
            filter = try EventIDFilter.build(pool, adding: Array(recent.keys), expectedMore: filter.count)
            saveFilter()
        } catch {
            logger.error("cannot rebuild the event-id filter", metadata: ["error": "\(error)"])
        }
    }

    /// Hands the filter to the saver, covering every id up to the head.
    private func saveFilter() {
        guard let headID else { return }
        filterSaver.save(filter, coveredUpTo: headPosition, anchor: headID)
        filterCountAtSave = filter.count
    }

    /// The writer is done: the filter goes to disk whole, so the next start reads it.
    func close() {
        guard let headID else { return }
        filterSaver.saveAndWait(filter, coveredUpTo: headPosition, anchor: headID)
    }

    /// Holds the commit back while the indexer is too far behind; fails when the
    /// indexer has stopped for good (its reason is the answer).
    ///
    /// A stopped indexer stops appends at once, not only when the tail is full: it stops
    /// after an I/O error on the database that also holds groups and views, and a disk
    /// that failed a sync there is not trusted with more events (fail-stop, DESIGN §4).
    private func waitForTailSpace() throws(StorageError) {
        if let reason = indexQueue.stopReason {
            throw .stopped("the indexer stopped, so the log cannot take more events: \(reason)")
        }
        while published.tailIsFull {
            if let reason = indexQueue.stopReason {
                throw .stopped("the indexer stopped, so the log cannot take more events: \(reason)")
            }
            if let problem = published.indexerProblem {
                throw StorageError(
                    code: problem.code,
                    message: "the indexer cannot store the events that wait for it: \(problem.message)",
                    cause: problem)
            }
            // Rare (a burst several seconds long): a short sleep, not a wake-up channel.
            usleep(500)
        }
    }

    /// Fail-stop: every queued and later append gets `error`.
    private func stop(_ error: StorageError) {
        isStopped = true
        for pending in queue.stop(reason: error.message) {
            pending.fail(error)
        }
    }

    /// The bytes an append adds to the batch, frames and padding included, as the append spells its names.
    private static func bytes(of append: PreparedAppend) -> Int {
        var total = 0
        for write in append.writes {
            for event in write.events {
                let payload = EventRecord.length(
                    stream: write.stream, type: event.type, contentType: event.contentType,
                    correlationID: event.correlationID, causationID: event.causationID,
                    metadataBytes: event.metadata.count, dataBytes: event.data.count)
                total += RecordFrame.paddedLength(RecordFrame.headerBytes + payload)
            }
        }
        return total
    }
}
