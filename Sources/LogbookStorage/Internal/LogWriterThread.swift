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

    func start() {
        let thread = Thread { [self] in
            Thread.current.name = "logbook-log"
            run()
        }
        thread.start()
    }

    private func run() {
        defer { finished.signal() }
        let appender = LogAppender(
            log: log, pool: pool, published: published, queue: queue, indexQueue: indexQueue,
            heads: heads, streamsCached: streamsCached, typeSpellings: typeSpellings, categorySpellings: categorySpellings,
            headPosition: headPosition, lastTimeMicros: lastTimeMicros, recent: recent,
            filter: filter, filterIsSaved: filterIsSaved, headID: headID, logger: logger)
        var batch = [PendingWrite]()
        while !appender.isStopped, queue.takeBatch(into: &batch) == .batch {
            appender.process(batch)
        }
        // After a fail-stop nothing more is written beside a log that failed or is damaged;
        // the next start rebuilds the filter from where its file left off.
        if !appender.isStopped { appender.close() }
    }
}
