/// One item of the writer's queue: an append, or a change to a subscription group.
///
/// Both kinds commit in the same group-commit transactions, each in a savepoint of its
/// own, and are answered only after COMMIT: SQLite has one writer, and the writer thread
/// holds it. A group write is a class, so this enum is no larger than the append it
/// mostly carries and an append is queued without an allocation of its own.
enum PendingWrite: Sendable {
    case append(PendingAppend)
    case group(PendingGroupWrite)
    case lifecycle(PendingLifecycleWrite)

    /// Answers with `error` (the batch failed, or the writer stopped).
    func fail(_ error: any Error) {
        switch self {
        case .append(let pending): pending.completion(.failure(error))
        case .group(let pending): pending.completion(.failure(error))
        case .lifecycle(let pending): pending.completion(.failure(error))
        }
    }
}

/// A group write waiting in the queue for the writer, with whoever waits for its outcome.
final class PendingGroupWrite: Sendable {
    let job: GroupJob
    /// Called once, on the writer thread: keep it short. The value is the group's
    /// checkpoint after the job (0 for a delete).
    let completion: @Sendable (Result<UInt64, any Error>) -> Void

    init(job: GroupJob, completion: @escaping @Sendable (Result<UInt64, any Error>) -> Void) {
        self.job = job
        self.completion = completion
    }
}

/// A change to one group or to one view (views belong to groups), validated on the
/// calling task before it is queued.
enum GroupJob: Sendable {
    case create(GroupDefinition)
    case update(GroupDefinition)
    case delete(name: String)
    case saveProgress(GroupProgress)
    case reset(name: String, checkpoint: UInt64?, clearViews: Bool)
    case defineView(ViewDefinition)
    case dropView(name: String)
}

/// What one `saveGroupProgress` persists, in one savepoint (or, on PostgreSQL, in one
/// transaction).
package struct GroupProgress: Sendable {
    package var name: String
    package var checkpoint: UInt64
    package var settled: [UInt64]
    package var parked: [ParkedRecord]
    package var unparked: [UInt64]
    package var viewWrites: [ViewWrite] = []

    package init(
        name: String, checkpoint: UInt64, settled: [UInt64], parked: [ParkedRecord], unparked: [UInt64],
        viewWrites: [ViewWrite] = []
    ) {
        self.name = name
        self.checkpoint = checkpoint
        self.settled = settled
        self.parked = parked
        self.unparked = unparked
        self.viewWrites = viewWrites
    }
}

/// A change to one stream's lifecycle (issue 16), serialised with the appends: a delete
/// checks its expected revision against the same heads.
package enum LifecycleChange: Sendable {
    case delete(expected: ExpectedRevision, hard: Bool)
    case setBounds(StreamLifecycle.Bounds)
    /// Checks a change's values (the stores call it before they queue or run it).
    package func validated() throws(StorageError) -> LifecycleChange {
        if case .setBounds(let bounds) = self {
            if let maxAge = bounds.maxAgeMicros, maxAge <= 0 {
                throw .invalidArgument("a stream's max age must be positive")
            }
            if bounds.maxCount == 0 {
                throw .invalidArgument("a stream's max count must be positive (leave it unset for no bound)")
            }
        }
        return self
    }
    /// Log engine: the log writer decided the change; the indexer only saves it.
    case save(StreamLifecycle)
}

/// A lifecycle change waiting for the writer, with whoever waits for the stream's
/// lifecycle after it.
final class PendingLifecycleWrite: Sendable {
    let stream: String
    let change: LifecycleChange
    let completion: @Sendable (Result<StreamLifecycle, any Error>) -> Void

    init(stream: String, change: LifecycleChange, completion: @escaping @Sendable (Result<StreamLifecycle, any Error>) -> Void) {
        self.stream = stream
        self.change = change
        self.completion = completion
    }
}

extension StreamLifecycle {
    /// Applies a delete or new bounds to the stream, whose last revision is `head` (the
    /// writer's, which knows every committed event).
    package mutating func apply(_ change: LifecycleChange, stream: String, head: UInt64?) -> Result<Void, StorageError> {
        catchUp(head: head)
        switch change {
        case .delete(let expected, let hard):
            return delete(expected: expected, hard: hard).mapError { AppendErrors.refusal($0, stream, expected) }
        case .setBounds(let bounds):
            return setBounds(bounds).mapError { AppendErrors.refusal($0, stream, .any) }
        case .save(let decided):
            self = decided
            return .success(())
        }
    }
}

extension StreamLifecycle {
    /// Why an append to a stream whose last revision is `head` is refused (its expected
    /// revision, or the stream's `lifecycle` if it has rules); nil when it may write. A deleted
    /// stream counts as absent; a tombstoned one is never written again.
    package static func refusal(_ write: PreparedWrite, head: UInt64?, lifecycle: StreamLifecycle?) -> StorageError? {
        var checked = head
        if var lifecycle {
            lifecycle.catchUp(head: head)
            if lifecycle.isTombstoned { return AppendErrors.tombstoned(write.stream) }
            checked = lifecycle.visibleHead
        }
        guard write.expected.isSatisfied(byHead: checked) else {
            return AppendErrors.wrongExpectedRevision(write, head: checked)
        }
        return nil
    }
}
