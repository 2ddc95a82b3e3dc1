internal import Dispatch
internal import Foundation
internal import GRDB
internal import Logging

/// The single SQLite writer: a dedicated thread that owns the pool's writer connection
/// for the life of the store. In the SQLite engine it commits appends and group writes;
/// in the log engine (`logEngineGroupSync` set) it is the indexer, storing the log's
/// tail behind the log writer, and commits group writes.
///
/// A thread of its own, not a task, because each group commit blocks in fsync; on a
/// 2-core machine that would take half of Swift's cooperative pool. Holding the writer
/// connection throughout lets prepared statements live as plain values on this thread.
struct WriterThread: Sendable {
    var pool: DatabasePool
    var databasePath: String
    var state: WriterState
    var queue: AppendQueue
    var published: PublishedState
    var indexing: IndexingPolicy
    var logEngineGroupSync: SyncMode?
    var rules: StreamRules
    var logger: Logger
    /// Signalled when the thread has finished and no longer touches the database.
    var finished: CompletionSignal

    func start() {
        let thread = Thread { [self] in
            // Named from inside: on Linux a name set before `start()` is not applied.
            Thread.current.name = "logbook-writer"
            run()
        }
        thread.start()
    }

    private func run() {
        defer { finished.signal() }
        do {
            try pool.writeWithoutTransaction { db in
                let writer = try AppendWriter(
                    db: db, databasePath: databasePath, state: state, queue: queue,
                    published: published, indexing: indexing, logEngineGroupSync: logEngineGroupSync, rules: rules, logger: logger)
                var batch = [PendingWrite]()
                let idleDelay = DispatchTimeInterval.milliseconds(StorageLimits.indexIdleDelayMilliseconds)
                taking: while !writer.isStopped {
                    let idleAfter = writer.wakesWhenIdle ? idleDelay : nil
                    switch queue.takeBatch(into: &batch, idleAfter: idleAfter, spins: !writer.storesTail) {
                    case .batch:
                        // Woken only because the log's tail began: wait (with the idle
                        // delay) for it to grow into a batch.
                        if batch.isEmpty, writer.storesTail, !published.tailIsDue { continue }
                        writer.process(batch)
                        // At most one index batch between two commits, and only once
                        // the tail is worth a transaction of its own.
                        if writer.indexBacklog >= UInt64(indexing.batchEvents) { writer.catchUpIndexes() }
                    case .idle:
                        if writer.storesTail { writer.process([]) }
                        if writer.indexesWhenIdle || writer.indexBacklog >= UInt64(indexing.batchEvents) {
                            writer.catchUpIndexes()
                        }
                    case .finished:
                        // The log writer has stopped: store what it left, then fold the
                        // WAL of the many small index commits into the database file.
                        if writer.storesTail { writer.process([]) }
                        if indexing.indexesWhenIdle { writer.catchUpIndexes() }
                        if writer.storesTail { writer.checkpoint() }
                        break taking
                    }
                }
            }
        } catch {
            let reason = "the storage writer could not start on \(databasePath): \(error)"
            logger.error("storage writer failed to start", metadata: ["error": "\(error)"])
            for pending in queue.stop(reason: reason) {
                pending.fail(StorageError.stopped(reason))
            }
        }
    }
}
