internal import GRDB

extension AppendWriter {
    /// One group write inside the open transaction, in a savepoint of its own. Throws
    /// only what ends the batch; anything else rolls back this write alone.
    ///
    /// Runs between the batch's appends, so a start at `.end` resolves against the head
    /// as of this point in commit order: the appends before it in the batch count, the
    /// ones after it do not.
    func applyGroup(_ job: GroupJob, time: Int64) throws(BatchFailure) -> Outcome {
        let start = mark()
        try run(statements.savepoint, failureIfOther: .fatal)
        do {
            let checkpoint = try runGroupJob(job, time: time)
            try statements.release.execute()
            return .grouped(checkpoint)
        } catch {
            if let error = error as? DatabaseError, SQLiteFailure(error).endsBatch {
                throw BatchFailure(failure: SQLiteFailure(error), error: error)
            }
            try rollBackAppend(to: start)
            switch error {
            case let error as StorageError:
                return .failed(error)
            case let error as DatabaseError:
                let message = "group write failed: \(error.message ?? "\(error)")"
                return .failed(StorageError(code: .internalError, message: message, cause: error))
            default:
                return .failed(StorageError(code: .internalError, message: "group write failed: \(error)", cause: error))
            }
        }
    }

    private func runGroupJob(_ job: GroupJob, time: Int64) throws -> UInt64 {
        switch job {
        case .create(let definition):
            if try findProgress(definition.name) != nil {
                throw StorageError(code: .groupExists, message: "a group named '\(definition.name)' already exists")
            }
            let checkpoint = initialCheckpoint(definition.start)
            try execute(
                Schema.SQL.insertGroup,
                GroupRowCodec.insertArguments(definition, createdMicros: time, initialCheckpoint: checkpoint))
            try execute(Schema.SQL.insertGroupProgress, [db.lastInsertedRowID, Int64(clamping: checkpoint)])
            return checkpoint

        case .update(let definition):
            let group = try existingGroup(definition.name)
            let stored = group.definition
            guard stored.selector == definition.selector, stored.start == definition.start,
                  stored.filter == definition.filter
            else {
                throw StorageError.invalidArgument("""
                    the selector, start and filter of group '\(definition.name)' cannot change; \
                    delete the group and create it again
                    """)
            }
            try execute(Schema.SQL.updateGroupSettings, GroupRowCodec.settingsArguments(definition) + [group.id])
            return group.checkpoint

        case .delete(let name):
            let id = try existingProgress(name).id
            try checkOwnsNoViews(name)
            for sql in [
                Schema.SQL.deleteAllSettled, Schema.SQL.deleteAllParked, Schema.SQL.deleteGroupProgress,
                Schema.SQL.deleteGroup,
            ] {
                try execute(sql, [id])
            }
            return 0

        case .saveProgress(let progress):
            return try saveProgress(progress, time: time)

        case .reset(let name, let to, let clearsViews):
            let group = try existingProgress(name)
            let checkpoint = to ?? group.initialCheckpoint
            try execute(Schema.SQL.setGroupCheckpoint, [Int64(clamping: checkpoint), group.id])
            try execute(Schema.SQL.deleteAllSettled, [group.id])
            if clearsViews { try clearViews(of: name) }
            return checkpoint

        case .defineView(let definition):
            try defineView(definition, time: time)
            return 0

        case .dropView(let name):
            try dropView(name)
            return 0
        }
    }

    /// Applies the ack's view writes first, then moves the checkpoint forwards only (a
    /// late save never undoes a newer one), keeps the settled set strictly above it, then
    /// parks and unparks, in that order: within one save a park followed by its replay's
    /// settlement leaves nothing parked. All of it is one savepoint, so a view never
    /// holds a write whose ack was not recorded.
    private func saveProgress(_ progress: GroupProgress, time: Int64) throws -> UInt64 {
        let group = try existingProgress(progress.name)
        try applyViewWrites(progress.viewWrites, group: progress.name)
        let checkpoint = max(group.checkpoint, progress.checkpoint)
        let id = group.id
        if checkpoint != group.checkpoint {
            try execute(Schema.SQL.setGroupCheckpoint, [Int64(clamping: checkpoint), id])
            try execute(Schema.SQL.deleteSettledUpTo, [id, Int64(clamping: checkpoint)])
        }
        for position in progress.settled where position > checkpoint {
            try execute(Schema.SQL.insertSettled, [id, Int64(clamping: position)])
        }
        for parked in progress.parked {
            // Listing parked events joins them with the log: one that is not there
            // would be counted but never listed or replayed.
            guard parked.position <= logHeadPosition else {
                throw StorageError.invalidArgument(
                    "cannot park position \(parked.position): the log ends at \(logHeadPosition)")
            }
            try execute(Schema.SQL.upsertParked, [
                id, Int64(clamping: parked.position), parked.reason, Int64(parked.attempts), time,
            ])
        }
        for position in progress.unparked {
            try execute(Schema.SQL.deleteParked, [id, Int64(clamping: position)])
        }
        return checkpoint
    }

    /// The checkpoint a new group starts from: every position at or below it counts as
    /// settled.
    private func initialCheckpoint(_ start: GroupStart) -> UInt64 {
        switch start {
        case .start: 0
        case .end: logHeadPosition
        case .position(let position): position > 0 ? position - 1 : 0
        }
    }

    private func findGroup(_ name: String) throws -> GroupRow? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: Schema.SQL.findGroup), arguments: [name]) else {
            return nil
        }
        return try GroupRowCodec.decode(row)
    }

    /// A group's id and checkpoints, without decoding its definition: what the
    /// frequent writes (progress saves) need.
    private func findProgress(_ name: String) throws -> (id: Int64, initialCheckpoint: UInt64, checkpoint: UInt64)? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: Schema.SQL.findGroupProgress), arguments: [name]) else {
            return nil
        }
        let initial: Int64 = try row.decode(atIndex: 1)
        let checkpoint: Int64 = try row.decode(atIndex: 2)
        guard let initial = UInt64(exactly: initial), let checkpoint = UInt64(exactly: checkpoint) else {
            throw StorageError.corrupt("the group '\(name)' has a negative checkpoint")
        }
        return (try row.decode(atIndex: 0), initial, checkpoint)
    }

    private func existingProgress(_ name: String) throws -> (id: Int64, initialCheckpoint: UInt64, checkpoint: UInt64) {
        guard let group = try findProgress(name) else {
            throw StorageError(code: .notFound, message: "group '\(name)' does not exist")
        }
        return group
    }

    private func existingGroup(_ name: String) throws -> GroupRow {
        guard let group = try findGroup(name) else {
            throw StorageError(code: .notFound, message: "group '\(name)' does not exist")
        }
        return group
    }

    /// Runs one of the group writes' statements. GRDB's cache prepares each on its first
    /// use and keeps it, since progress saves arrive with most acks; it drops one whose
    /// step failed, which would otherwise report that error again (see `statements`).
    private func execute(_ sql: String, _ arguments: StatementArguments) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
