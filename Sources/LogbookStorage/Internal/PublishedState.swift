#if canImport(Glibc)
internal import Glibc
#endif
internal import Synchronization

/// Committed events the SQLite tables do not hold yet (log engine): one chunk per group
/// commit, immutable, so a reader takes the list of chunks under the lock and filters
/// them after letting go of it.
final class TailChunk: Sendable {
    let events: [StoredEvent]
    /// Data and metadata bytes of its events: what holding it costs in memory.
    let bytes: Int

    init(events: [StoredEvent]) {
        self.events = events
        bytes = events.reduce(0) { $0 + $1.data.count + $1.metadata.count }
    }

    var lastPosition: UInt64 { events.last?.position ?? 0 }
}

/// A stream's last revision and the position of that event. A bounded cache may let
/// the entry go only once SQLite holds the event (`position <= storedUpTo`); an entry
/// SQLite answered for has position 0.
struct StreamHead: Sendable, Equatable {
    var revision: UInt64
    var position: UInt64
}

/// What one read sees, taken in one step: positions up to `headPosition` exist;
/// `events` holds those up to `storedUpTo`, the index tables those up to `indexedUpTo`,
/// and `tail` the rest (storedUpTo, headPosition].
struct ReadSnapshot {
    var headPosition: UInt64
    var storedUpTo: UInt64
    var indexedUpTo: UInt64
    /// The asked-for stream's last revision, nil when it does not exist.
    var streamRevision: UInt64?
    /// The asked-for stream's name as first written: Swift finds a stream under any
    /// canonically equivalent spelling, SQLite only under the stored bytes.
    var streamName: String?
    /// The asked-for stream is not in memory, which does not keep every stream (log
    /// engine): SQLite answers for it as of `storedUpTo` (`StoredStreamHeads`).
    var streamIsUnknown: Bool
    var tail: [TailChunk]
}

/// What readers may see: the last committed position, stream heads, how far the SQLite
/// tables reach, and (log engine) the committed events they do not hold yet.
///
/// The heads are every stream's in the SQLite engine. In the log engine they are a
/// bounded cache (`StorageLimits.streamsCachedMax`) of the streams the log writer
/// published, and a read of another stream asks SQLite. That is right because an entry
/// leaves the cache only once SQLite holds the stream's newest event: so at the moment
/// of a snapshot, a stream without an entry has no event in (storedUpTo, headPosition],
/// every event it has up to the head is in SQLite's committed state (the indexer
/// publishes `storedUpTo` after its COMMIT), and a read transaction begun afterwards
/// sees them. Later events of the stream have positions past the snapshot's head, so
/// the lookup is bounded by the snapshot's `storedUpTo` and answers as of the snapshot.
/// Readers do not add what SQLite told them to the cache: a stale answer could then
/// land after the writer moved the head.
///
/// A writer changes these only after a commit succeeded, in one step, so a reader
/// never sees a position (or a head) whose commit could still fail, and never sees
/// position p + 1 before p. `indexedUpTo <= storedUpTo <= headPosition` always: a read
/// takes all three with the tail in one snapshot and covers (indexedUpTo, storedUpTo]
/// by scanning `events` and (storedUpTo, headPosition] from the tail. In the SQLite
/// engine a commit stores its events, so `storedUpTo` is the head and the tail empty.
final class PublishedState: Sendable {
    private struct State {
        var headPosition: UInt64
        var storedUpTo: UInt64
        var indexedUpTo: UInt64
        var heads: StreamCache<StreamHead>
        /// Whether `heads` holds every stream (the SQLite engine).
        let headsAreComplete: Bool
        var tail: [TailChunk] = []
        var tailEvents = 0
        var tailBytes = 0
        var indexerProblem: StorageError?
        /// Reads blocked in `waitUntilStored`: the indexer stores the tail at once for them.
        var storeWaiters = 0
        var observers: [Int: AsyncStream<UInt64>.Continuation] = [:]
        /// Called with each new head on the committing thread (`onHeadPosition`).
        var listeners: [@Sendable (UInt64) -> Void] = []
        var nextObserverID = 0
        var isFinished = false
    }

    private let state: Mutex<State>

    /// `streamsCached`: nil when `heads` are every stream's (the SQLite engine), else the
    /// capacity of the cache of heads.
    init(
        headPosition: UInt64, indexedUpTo: UInt64, heads: some Sequence<(String, UInt64)>, headCount: Int,
        streamsCached: Int?
    ) {
        var cache = StreamCache<StreamHead>(capacity: streamsCached ?? .max)
        cache.reserveCapacity(headCount)
        for (name, revision) in heads {
            cache[name] = StreamHead(revision: revision, position: 0)
        }
        state = Mutex(State(
            headPosition: headPosition, storedUpTo: headPosition, indexedUpTo: indexedUpTo, heads: cache,
            headsAreComplete: streamsCached == nil))
    }

    var indexedUpTo: UInt64 {
        state.withLock { $0.indexedUpTo }
    }

    var storedUpTo: UInt64 {
        state.withLock { $0.storedUpTo }
    }

    var headPosition: UInt64 {
        state.withLock { $0.headPosition }
    }

    /// Whether the tail (log engine) holds as many events or bytes as it may: the log
    /// writer then waits for the indexer (`StorageLimits.unstoredTail…`).
    var tailIsFull: Bool {
        state.withLock {
            $0.tailEvents >= StorageLimits.unstoredTailEventsMax || $0.tailBytes >= StorageLimits.unstoredTailBytesMax
        }
    }

    /// Why the indexer's last attempt to store the tail failed, nil after a success.
    var indexerProblem: StorageError? {
        state.withLock { $0.indexerProblem }
    }

    func noteIndexerProblem(_ problem: StorageError?) {
        state.withLock { $0.indexerProblem = problem }
    }

    /// Everything a read needs, read together.
    func snapshot(stream: String?) -> ReadSnapshot {
        state.withLock { state in
            let entry = stream.flatMap { state.heads.lookUp($0) }
            return ReadSnapshot(
                headPosition: state.headPosition, storedUpTo: state.storedUpTo, indexedUpTo: state.indexedUpTo,
                streamRevision: entry?.value.revision, streamName: entry?.name,
                streamIsUnknown: stream != nil && entry == nil && !state.headsAreComplete, tail: state.tail)
        }
    }

    /// How many heads memory holds (tests watch the cache's bound with it).
    var headsKept: Int {
        state.withLock { $0.heads.count }
    }

    /// Called once an index batch committed: reads may use the index tables up to here.
    func publishIndexed(upTo position: UInt64) {
        state.withLock { $0.indexedUpTo = position }
    }

    /// A commit that stored its events in SQLite (the SQLite engine).
    func publish(headPosition: UInt64, heads: some Sequence<(String, UInt64)>) {
        let observers = state.withLock { state in
            state.storedUpTo = headPosition
            for (stream, revision) in heads {
                state.heads[stream] = StreamHead(revision: revision, position: headPosition)
            }
            return Self.advance(&state, headPosition: headPosition)
        }
        Self.tell(observers, headPosition)
    }

    /// A commit that is durable in the log but not yet in SQLite (the log engine): its
    /// events join the tail. Returns how many events the tail holds now.
    /// The heads' cache makes room here: only heads of events SQLite holds may go.
    func publish(headPosition: UInt64, heads: some Sequence<(String, StreamHead)>, tail chunk: TailChunk) -> Int {
        let (observers, unstored) = state.withLock { state in
            state.tail.append(chunk)
            state.tailEvents += chunk.events.count
            state.tailBytes += chunk.bytes
            for (stream, head) in heads {
                state.heads[stream] = head
            }
            let stored = state.storedUpTo
            state.heads.evictIfFull { $0.position <= stored }
            return (Self.advance(&state, headPosition: headPosition), state.tailEvents)
        }
        Self.tell(observers, headPosition)
        return unstored
    }

    /// Whether the indexer should store the tail now rather than at the end of its idle
    /// delay: the tail is a batch worth a transaction, or a read waits for it.
    var tailIsDue: Bool {
        state.withLock { $0.tailEvents >= StorageLimits.storeBatchEvents || $0.storeWaiters > 0 }
    }

    /// The indexer committed the events up to `position` to SQLite: reads find them
    /// there from now on, and the tail lets them go.
    func publishStored(upTo position: UInt64) {
        state.withLock { state in
            state.storedUpTo = position
            var dropped = 0
            while dropped < state.tail.count, state.tail[dropped].lastPosition <= position {
                state.tailEvents -= state.tail[dropped].events.count
                state.tailBytes -= state.tail[dropped].bytes
                dropped += 1
            }
            state.tail.removeFirst(dropped)
        }
    }

    /// The tail's chunks after `position` (a chunk boundary), for the indexer.
    func unstoredChunks(after position: UInt64) -> [TailChunk] {
        state.withLock { state in state.tail.filter { $0.lastPosition > position } }
    }

    /// Blocks the calling thread until SQLite holds every event up to `position`, for
    /// the few reads that join `events` in SQL (system views, parked events) and so
    /// cannot take the tail; the indexer is milliseconds behind. Gives up after
    /// `StorageLimits.storedWaitMax` and reports whether it got there.
    /// `wake` wakes the indexer, which otherwise waits to gather a batch.
    func waitUntilStored(_ position: UInt64, wake: () -> Void) -> Bool {
        let waits = state.withLock { state in
            guard state.storedUpTo < position else { return false }
            state.storeWaiters += 1
            return true
        }
        guard waits else { return true }
        defer { state.withLock { $0.storeWaiters -= 1 } }
        wake()
        let deadline = ContinuousClock.now + StorageLimits.storedWaitMax
        while storedUpTo < position {
            guard ContinuousClock.now < deadline else { return false }
            usleep(200)
        }
        return true
    }

    /// Moves the head; returns the observers to tell, when it moved.
    private static func advance(_ state: inout State, headPosition: UInt64) -> Observers {
        guard headPosition != state.headPosition else { return Observers() }
        state.headPosition = headPosition
        return Observers(streams: Array(state.observers.values), listeners: state.listeners)
    }

    /// Who hears of a commit that moved the head.
    private struct Observers {
        var streams: [AsyncStream<UInt64>.Continuation] = []
        var listeners: [@Sendable (UInt64) -> Void] = []
    }

    /// Yields the new head outside the lock. Under it, a yield that resumes a task waits
    /// for that task's status lock, while a cancellation holding that lock runs the
    /// stream's `onTermination`, which waits for ours: a deadlock (seen in a test run).
    /// Heads still reach each observer in commit order: one writer thread publishes them,
    /// one commit after another.
    private static func tell(_ observers: Observers, _ headPosition: UInt64) {
        for listener in observers.listeners {
            listener(headPosition)
        }
        for observer in observers.streams {
            observer.yield(headPosition)
        }
    }

    /// Calls `listener` with the head after every commit that moves it, on the thread
    /// that committed, outside the lock, for the life of the store. For a watch that is
    /// cheap to update (a lock, waking only those waiting): a stream of heads instead
    /// resumes a task per commit, which cost a thread wake-up per commit when nobody
    /// was waiting.
    func onHeadPosition(_ listener: @escaping @Sendable (UInt64) -> Void) {
        let head = state.withLock { state in
            state.listeners.append(listener)
            return state.headPosition
        }
        listener(head)
    }

    /// The head position now and after every commit. Only the newest value is kept
    /// for a slow consumer, which then reads the events it missed from storage.
    func headPositions() -> AsyncStream<UInt64> {
        let (stream, continuation) = AsyncStream.makeStream(of: UInt64.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state -> Int? in
            guard !state.isFinished else { return nil }
            let id = state.nextObserverID
            state.nextObserverID += 1
            state.observers[id] = continuation
            continuation.yield(state.headPosition)
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.observers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends every head-position stream (the store is closing).
    func finishObservers() {
        let observers = state.withLock { state in
            state.isFinished = true
            defer { state.observers.removeAll() }
            return Array(state.observers.values)
        }
        for observer in observers {
            observer.finish()
        }
    }
}
