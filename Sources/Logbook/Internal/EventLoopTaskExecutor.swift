internal import NIOCore

/// Runs a task's jobs on one event loop: a task that prefers it (Swift's
/// `withTaskExecutorPreference`, `addTask(executorPreference:)`) runs the client's calls
/// on the thread of the connection they use, so a call's request and its answer cost no
/// hop between threads, and the task goes on in the same pass of the loop that read the
/// answer.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
