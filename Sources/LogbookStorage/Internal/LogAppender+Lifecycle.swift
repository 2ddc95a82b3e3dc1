internal import Foundation

extension LogAppender {
    /// Decides a delete or new bounds against the stream's head, then has the indexer
    /// save the record in SQLite (which holds the log engine's rules, as it holds groups)
    /// and waits for that commit: until the change is durable nothing after it in the
    /// queue is written, so no append is acknowledged on top of a change a crash could
    /// undo. Lifecycle changes are rare; appends wait for one SQLite commit.
    func applyLifecycle(_ write: PendingLifecycleWrite) {
        guard !isStopped else {
            write.completion(.failure(StorageError.stopped("the log writer has stopped")))
            return
        }
        let entry = headEntry(write.stream)
        let name = entry?.name ?? write.stream
        var lifecycle = rules[name] ?? StreamLifecycle(lastRevision: entry?.revision)
        if case .failure(let refusal) = lifecycle.apply(write.change, stream: name, head: entry?.revision) {
            write.completion(.failure(refusal))
            return
        }
        let saved = Saved()
        do {
            try indexQueue.enqueue(.lifecycle(PendingLifecycleWrite(stream: name, change: .save(lifecycle)) { result in
                saved.finish(result)
            }))
        } catch {
            write.completion(.failure(error))
            return
        }
        if case .failure(let error) = saved.wait() {
            write.completion(.failure(error))
            return
        }
        rules[name] = lifecycle.hasRules ? lifecycle : nil
        sharedRules.publish(rules)
        write.completion(.success(lifecycle))
    }

    /// The indexer's answer, waited for on this thread.
    private final class Saved: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var result: Result<StreamLifecycle, any Error>?

        func finish(_ result: Result<StreamLifecycle, any Error>) {
            self.result = result
            done.signal()
        }

        /// The semaphore orders `finish`'s write before this read.
        func wait() -> Result<StreamLifecycle, any Error> {
            done.wait()
            return result ?? .failure(StorageError(code: .internalError, message: "the indexer did not answer"))
        }
    }
}
