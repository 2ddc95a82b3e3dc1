internal import GRDB
internal import Logging

extension AppendWriter {
    func mark() -> Mark {
        Mark(undoCount: undoLog.count, touchedCount: touchedStreams.count, headPosition: state.headPosition)
    }

    /// Runs a transaction-control statement; a failure ends the batch, as `fallback`
    /// when SQLite's error does not already say how serious it is.
    func run(_ statement: Statement, failureIfOther fallback: SQLiteFailure) throws(BatchFailure) {
        do {
            try statement.execute()
        } catch let error as DatabaseError {
            let failure = SQLiteFailure(error)
            throw BatchFailure(failure: failure.endsBatch ? failure : fallback, error: error)
        } catch {
            throw BatchFailure(failure: fallback, error: DatabaseError(message: "\(error)"))
        }
    }

    /// Undoes one failed append, on disk and in memory. If SQLite cannot roll back to
    /// the savepoint, the transaction's state is unknown and the batch must end.
    func rollBackAppend(to mark: Mark) throws(BatchFailure) {
        try renewStatements()
        try run(statements.rollbackToSavepoint, failureIfOther: .fatal)
        try run(statements.release, failureIfOther: .fatal)
        undo(to: mark)
    }

    /// Prepares the statements afresh, dropping any that holds a failed step's error.
    func renewStatements() throws(BatchFailure) {
        do {
            statements = try WriterStatements(db)
        } catch let error as DatabaseError {
            throw BatchFailure(failure: .fatal, error: error)
        } catch {
            throw BatchFailure(failure: .fatal, error: DatabaseError(message: "\(error)"))
        }
    }

    func undo(to mark: Mark) {
        while undoLog.count > mark.undoCount, let entry = undoLog.popLast() {
            switch entry {
            case .streamCreated(let name):
                state.streams[name] = nil
            case .headMoved(let name, let previous):
                state.streams[name]?.head = previous
            case .eventTypeCreated(let name):
                state.eventTypes[name] = nil
            case .categoryCreated(let name):
                state.categories[name] = nil
            case .rulesChanged(let name, let previous):
                state.rules[name] = previous
            }
        }
        touchedStreams.removeSubrange(mark.touchedCount...)
        state.headPosition = mark.headPosition
    }

    /// Ends a batch that cannot commit: rolls it back and fails all of its appends;
    /// after an I/O-class error (or a rollback that failed) stops the writer for good.
    /// Returns what the writes were answered.
    @discardableResult
    func abort(_ batch: [PendingWrite], failure error: any Error, undoingTo start: Mark) -> StorageError {
        var (failure, cause) = Self.classify(error)
        let rolledBack = rollBackBatch()
        undo(to: start)
        do {
            try renewStatements()
        } catch {
            (failure, cause) = (.fatal, error.error)
        }
        let answer: StorageError
        switch failure {
        case .diskFull where rolledBack:
            answer = StorageError(
                code: .diskFull,
                message: "the disk is full (\(databasePath) cannot grow); nothing of the batch was written",
                cause: cause)
            logger.info("append batch failed: disk full", metadata: ["batch": "\(batch.count)"])
        case .busy where rolledBack:
            answer = StorageError(
                code: .internalError,
                message: "another connection holds a lock on \(databasePath); nothing of the batch was written",
                cause: cause)
        default:
            answer = failStop(cause: cause, rolledBack: rolledBack)
        }
        for pending in batch {
            pending.fail(answer)
        }
        return answer
    }

    /// Stops the writer: every queued and later append fails with the reason. Never
    /// retried: after an fsync error the kernel may have dropped the dirty pages, so a
    /// retry could report success for data that is not on disk.
    func failStop(cause: DatabaseError, rolledBack: Bool) -> StorageError {
        let reason = """
            the storage writer stopped after an I/O error on \(databasePath) \
            (\(cause.message ?? "\(cause.resultCode)"), SQLite code \(cause.extendedResultCode.rawValue)); \
            appends are refused until the daemon is restarted
            """
        logger.error("storage writer fail-stop", metadata: ["reason": "\(reason)", "rolled_back": "\(rolledBack)"])
        isStopped = true
        let answer = StorageError(code: .stopped, message: reason, cause: cause)
        for pending in queue.stop(reason: reason) {
            pending.fail(answer)
        }
        return answer
    }

    /// True when no transaction is left open.
    func rollBackBatch() -> Bool {
        if db.isInsideTransaction {
            do {
                try db.rollback()
            } catch {
                logger.error("rollback failed", metadata: ["error": "\(error)"])
            }
        }
        return !db.isInsideTransaction
    }

    static func classify(_ error: any Error) -> (SQLiteFailure, DatabaseError) {
        switch error {
        case let batchFailure as BatchFailure:
            return (batchFailure.failure, batchFailure.error)
        case let databaseError as DatabaseError:
            let failure = SQLiteFailure(databaseError)
            return (failure.endsBatch ? failure : .fatal, databaseError)
        default:
            return (.fatal, DatabaseError(message: "\(error)"))
        }
    }
}
