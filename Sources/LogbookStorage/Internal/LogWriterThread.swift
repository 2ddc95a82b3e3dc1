internal import Foundation
internal import GRDB
internal import Logging

/// The log engine's writer: a dedicated thread that runs `LogAppender` for the life
/// of the store. A thread of its own, like the SQLite writer, because each group commit
/// blocks in `fdatasync`.
struct LogWriterThread: Sendable {
    var log: SegmentLog
    var pool: DatabasePool
    var published: PublishedState
    var queue: AppendQueue
    var indexQueue: AppendQueue
    /// Heads of the streams of the log's unstored tail at open.
    var heads: [String: StreamHead]
    /// The lifecycle rules, loaded and brought up to the heads.
    var rules: StreamRules
    var streamsCached: Int
    var typeSpellings: Set<String>
    var categorySpellings: Set<String>
    var headPosition: UInt64
    var lastTimeMicros: Int64
    /// Events of the log that SQLite did not hold at open.
    var recent: [StoredEvent]
    var filter: EventIDFilter
    /// Whether the file on disk holds `filter` already (it was read from there).
    var filterIsSaved: Bool
    /// The id of the event at `headPosition` (nil when it could not be read).
    var headID: EventID?
    var logger: Logger
    /// Signalled when the thread has finished and no longer touches the log.
    var finished: CompletionSignal

    /// Starts the thread and returns the committer through which callers may also commit
    /// on their own threads.
    func start() -> LogCommitter {
        let appender = LogAppender(
            log: log, pool: pool, published: published, queue: queue, indexQueue: indexQueue,
            heads: heads, rules: rules, streamsCached: streamsCached, typeSpellings: typeSpellings, categorySpellings: categorySpellings,
            headPosition: headPosition, lastTimeMicros: lastTimeMicros, recent: recent,
            filter: filter, filterIsSaved: filterIsSaved, headID: headID, logger: logger)
        let committer = LogCommitter(appender: appender, queue: queue)
        let thread = Thread { [self] in
            Thread.current.name = "logbook-log"
            run(committer)
        }
        thread.start()
        return committer
    }

    private func run(_ committer: LogCommitter) {
        defer { finished.signal() }
        var batch = [PendingWrite]()
        // No spin before sleeping (the SQLite writer's `spinBriefly`): a lone client's
        // appends are committed by its event loop, which finds this thread idle, so a spin
        // would only take a core from the loops.
        while queue.takeBatch(into: &batch, spins: false, claims: true) == .batch {
            let stopped = committer.processClaimed(batch)
            queue.release()
            if stopped { break }
        }
        // `.finished` comes only once nobody holds the appender and nobody can claim it
        // again (the queue is closed); after a fail-stop nobody can claim it either. After
        // a fail-stop nothing more is written beside a log that failed or is damaged; the
        // next start rebuilds the filter from where its file left off.
        committer.closeUnlessStopped()
    }
}

/// The log writer's state (`LogAppender`) and the claim that guards it: the log writer
/// thread commits what is queued, and a caller that finds the queue empty and the state
/// free may commit its own appends on its own thread (`commit`), which saves the two
/// thread hand-offs a lone client's append would otherwise cost.
///
/// `@unchecked Sendable`: the appender is touched only by whoever holds the queue's claim
/// (`AppendQueue.tryClaim`, `takeBatch(claims:)`), whose lock orders each holder's
/// accesses before the next holder's.
final class LogCommitter: @unchecked Sendable {
    private let appender: LogAppender
    private let queue: AppendQueue

    init(appender: LogAppender, queue: AppendQueue) {
        self.appender = appender
        self.queue = queue
    }

    /// Commits `writes` on this thread when the writer is idle (blocking for the commit's
    /// sync), or queues them for the writer thread. Either way each is answered through its
    /// completion. More than a queue's worth always goes through the queue, which refuses
    /// the excess.
    func commit(_ writes: [PendingWrite]) {
        guard writes.count <= StorageLimits.appendQueueDepthMax, queue.tryClaim() else {
            queue.enqueue(contentsOf: writes)
            return
        }
        appender.process(writes)
        queue.release()
    }

    /// Processes a batch taken with the claim; whether the writer has stopped for good.
    func processClaimed(_ batch: [PendingWrite]) -> Bool {
        appender.process(batch)
        return appender.isStopped
    }

    /// Saves the id filter on a normal close; only once nobody can claim the appender.
    func closeUnlessStopped() {
        if !appender.isStopped { appender.close() }
    }
}
