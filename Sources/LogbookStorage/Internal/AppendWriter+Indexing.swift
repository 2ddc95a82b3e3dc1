internal import GRDB
internal import Logging

extension AppendWriter {
    /// Committed events the read indexes do not cover yet.
    var indexBacklog: UInt64 {
        state.headPosition - state.indexedUpTo
    }

    /// Whether the writer should wake up from an idle wait to index the tail.
    var indexesWhenIdle: Bool {
        indexing.indexesWhenIdle && indexBacklog > 0 && indexingFailedAtHead != state.headPosition
    }

    /// Whether the writer should wake up from an idle wait at all: to index, or (log
    /// engine) to retry storing a tail that a full disk held back.
    var wakesWhenIdle: Bool {
        indexesWhenIdle || (storesTail && published.storedUpTo < published.headPosition)
    }

    /// Indexes every committed event not yet indexed, in one transaction of its own,
    /// then lets readers use the tables up to there.
    ///
    /// Runs between group commits only, so the in-memory head is the committed one.
    /// Like a commit, an I/O error here stops the writer: the WAL fsync failed, and a
    /// later commit must not report success over it. A full disk or a lock only
    /// postpones the work: reads stay correct by scanning the longer tail.
    func catchUpIndexes() {
        let upTo = state.headPosition
        guard !isStopped, upTo > state.indexedUpTo, indexingFailedAtHead != upTo else { return }
        do {
            try indexer.index(after: state.indexedUpTo, upTo: upTo)
        } catch {
            var (failure, cause) = Self.classify(error)
            let rolledBack = rollBackBatch()
            do {
                indexer = try SecondaryIndexer(db)
            } catch {
                (failure, cause) = (.fatal, (error as? DatabaseError) ?? DatabaseError(message: "\(error)"))
            }
            switch failure {
            case .diskFull where rolledBack, .busy where rolledBack:
                indexingFailedAtHead = upTo
                logger.info("read index catch-up postponed", metadata: ["error": "\(cause)", "backlog": "\(indexBacklog)"])
            default:
                _ = failStop(cause: cause, rolledBack: rolledBack)
            }
            return
        }
        state.indexedUpTo = upTo
        indexingFailedAtHead = nil
        published.publishIndexed(upTo: upTo)
    }

    /// Copies the WAL into the database file and empties it (log engine, at close).
    func checkpoint() {
        do {
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        } catch {
            logger.info("checkpoint at close failed", metadata: ["error": "\(error)"])
        }
    }
}
