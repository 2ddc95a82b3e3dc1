/// One item of the writer's queue: an append, or a change to a subscription group.
///
/// Both kinds commit in the same group-commit transactions, each in a savepoint of its
/// own, and are answered only after COMMIT: SQLite has one writer, and the writer thread
/// holds it. A group write is a class, so this enum is no larger than the append it
/// mostly carries and an append is queued without an allocation of its own.
enum PendingWrite: Sendable {
    case append(PendingAppend)
    case group(PendingGroupWrite)

    /// Answers with `error` (the batch failed, or the writer stopped).
    func fail(_ error: any Error) {
        switch self {
        case .append(let pending): pending.completion(.failure(error))
        case .group(let pending): pending.completion(.failure(error))
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
