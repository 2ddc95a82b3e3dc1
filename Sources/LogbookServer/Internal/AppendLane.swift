internal import LogbookStorage
internal import LogbookWire
internal import NIOCore
internal import Synchronization

/// The road appends take between one event loop and the store's writer, in both
/// directions a batch at a time.
///
/// Going in, the appends that the loop's connections read in one pass over their
/// sockets are handed to the writer together, after the pass: one lock and at most one
/// wake-up for all of them, and the writer sees them in one group commit instead of
/// waking for the first and committing it alone.
///
/// Coming back, the writer posts each answer here and the loop is woken once for all
/// that a commit answers: it writes every reply, then flushes each connection once, so a
/// connection with several appends in one commit sends their replies in one write.
final class AppendLane: Sendable {
    /// One answered append, on its way back to its connection.
    private struct Answer {
        var handler: NIOLoopBound<ConnectionHandler>
        var callID: UInt64
        var result: Result<AppendResult, any Error>
        /// For the metrics: when the request was read, and its events and data bytes.
        var started: ContinuousClock.Instant
        var events: Int
        var bytes: Int
    }

    private struct Answers {
        var waiting: [Answer] = []
        /// A task that delivers `waiting` is on the loop's queue.
        var scheduled = false
    }

    let loop: any EventLoop
    private let store: any ServedStore
    private let stats: ServerStats
    private let metrics: ServerMetrics
    /// Appends read in the current pass, not yet handed to the writer; loop only.
    private let gathered: NIOLoopBoundBox<[CheckedAppend]>
    private let answers = Mutex(Answers())

    init(loop: any EventLoop, store: any ServedStore, stats: ServerStats, metrics: ServerMetrics) {
        self.loop = loop
        self.store = store
        self.stats = stats
        self.metrics = metrics
        self.gathered = NIOLoopBoundBox.makeBoxSendingValue([], eventLoop: loop)
    }

    /// Checks an append and gathers it for the writer; on the loop. A request the store
    /// refuses at once (a bad name, too many events) is thrown back to answer directly.
    func submit(_ writes: [StreamWrite], callID: UInt64, from handler: ConnectionHandler) throws(StorageError) {
        let bound = NIOLoopBound(handler, eventLoop: self.loop)
        let started = ContinuousClock.now
        let (events, bytes) = writes.reduce((0, 0)) { sum, write in
            (sum.0 + write.events.count, write.events.reduce(sum.1) { $0 + $1.data.count })
        }
        let append = try self.store.check(writes) { [self] result in
            self.post(Answer(handler: bound, callID: callID, result: result, started: started, events: events, bytes: bytes))
        }
        self.gathered.value.append(append)
        if self.gathered.value.count == 1 {
            // Runs once the loop has handled every socket that was ready in this pass.
            self.loop.execute { self.handOff() }
        }
    }

    private func handOff() {
        var appends = [CheckedAppend]()
        swap(&appends, &self.gathered.value)
        self.store.enqueue(appends)
    }

    /// On the writer thread: keep it short.
    private func post(_ answer: Answer) {
        let schedule = self.answers.withLock { answers -> Bool in
            answers.waiting.append(answer)
            defer { answers.scheduled = true }
            return !answers.scheduled
        }
        if schedule {
            self.loop.execute { self.deliver() }
        }
    }

    private func deliver() {
        let waiting = self.answers.withLock { answers -> [Answer] in
            answers.scheduled = false
            var waiting = [Answer]()
            swap(&waiting, &answers.waiting)
            return waiting
        }
        var appended = 0
        for answer in waiting {
            let succeeded = if case .success = answer.result { true } else { false }
            if succeeded { appended += 1 }
            self.metrics.appendAnswered(succeeded: succeeded, events: answer.events, bytes: answer.bytes, since: answer.started)
            answer.handler.value.answerAppend(answer.callID, answer.result)
        }
        self.stats.appended(appended)
        for answer in waiting {
            answer.handler.value.flushAnswers()
        }
    }
}

/// One `AppendLane` per event loop, made when the loop's first connection opens.
final class AppendLanes: Sendable {
    private let store: any ServedStore
    private let stats: ServerStats
    private let metrics: ServerMetrics
    private let lanes = Mutex([ObjectIdentifier: AppendLane]())

    init(store: any ServedStore, stats: ServerStats, metrics: ServerMetrics) {
        self.store = store
        self.stats = stats
        self.metrics = metrics
    }

    func lane(for loop: any EventLoop) -> AppendLane {
        self.lanes.withLock { lanes in
            if let lane = lanes[ObjectIdentifier(loop)] { return lane }
            let lane = AppendLane(loop: loop, store: self.store, stats: self.stats, metrics: self.metrics)
            lanes[ObjectIdentifier(loop)] = lane
            return lane
        }
    }
}
