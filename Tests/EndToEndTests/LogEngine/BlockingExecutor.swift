internal import Foundation
internal import Testing

/// A task executor with a thread of its own, for test code that blocks: socket reads,
/// `Process` waits, sleeps.
///
/// Swift Testing calls a test function on Swift concurrency's shared pool, which has one
/// thread per core: two cores here. A synchronous test that blocks for a minute holds one
/// of the two, and the async tests running beside it (which wait for outcomes with bounded
/// patience) starve. Run under this executor's preference, the same code blocks a thread
/// of its own; it is still the test's task, so `#expect` and `Issue.record` report to it.
final class BlockingExecutor: TaskExecutor, @unchecked Sendable {  // `jobs` and `finished` under `condition`
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finished = false

    private init() {
        let thread = Thread { [self] in self.runJobs() }
        thread.name = "blocking test"
        thread.start()
    }

    /// Runs `body` (and every task it awaits that has no other preference) on a thread of
    /// its own.
    static func run<Result>(_ body: () async throws -> Result) async throws -> Result {
        let executor = BlockingExecutor()
        defer { executor.finish() }
        return try await withTaskExecutorPreference(executor) { try await body() }
    }

    /// Starts `body` on a thread of its own, as a task to await later.
    static func task<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) -> Task<Result, any Error> {
        let executor = BlockingExecutor()
        return Task(executorPreference: executor) {
            defer { executor.finish() }
            return try body()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.condition.lock()
        self.jobs.append(job)
        self.condition.signal()
        self.condition.unlock()
    }

    /// Lets the thread end once it has run the jobs it was given.
    private func finish() {
        self.condition.lock()
        self.finished = true
        self.condition.signal()
        self.condition.unlock()
    }

    private func runJobs() {
        while true {
            self.condition.lock()
            while self.jobs.isEmpty && !self.finished { self.condition.wait() }
            if self.jobs.isEmpty {
                self.condition.unlock()
                return
            }
            let job = self.jobs.removeFirst()
            self.condition.unlock()
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

/// A suite trait: each of the suite's tests runs under a ``BlockingExecutor`` of its own.
/// For suites of synchronous tests, which block on processes, sockets and sleeps: called on
/// the shared pool, they hold its two threads, and the async tests across the whole run
/// starve (an in-process reconnect test took 70 s in CI for a body that takes 0.05 s).
struct BlocksItsThread: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await BlockingExecutor.run { try await function() }
    }
}

extension Trait where Self == BlocksItsThread {
    static var blocksItsThread: Self { Self() }
}
