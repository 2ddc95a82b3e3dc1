internal import Foundation
internal import Logging
internal import Synchronization

/// Checks every record of the log's sealed segments once, on a thread of its own, after
/// the store opened.
///
/// An open reads only the sealed segments' index files (so a start costs what the
/// indexes lack, not the size of the log), and a read checks only the records it
/// returns, so damage in a sealed segment would otherwise surface only when something
/// reads that record or the indexes are next rebuilt.
/// Found damage stops the log writer for good, naming the segment and the byte offset:
/// appends answer UNAVAILABLE with that reason, reads go on, and every later start runs the
/// check again. (A start that must rebuild the indexes reads the segments and refuses the
/// damaged log outright.)
struct LogVerifier: Sendable {
    var log: SegmentLog
    var queue: AppendQueue
    var stopping: StopFlag
    var logger: Logger

    /// Set when the store closes: the check ends between two segments.
    final class StopFlag: Sendable {
        private let stopped = Atomic(false)
        func stop() { stopped.store(true, ordering: .releasing) }
        var isStopped: Bool { stopped.load(ordering: .acquiring) }
    }

    func start() {
        let thread = Thread { [self] in
            Thread.current.name = "logbook-verify"
            run()
        }
        thread.qualityOfService = .background
        thread.start()
    }

    private func run() {
        let started = ContinuousClock.now
        do throws(StorageError) {
            try log.verifySealed { !stopping.isStopped }
        } catch {
            guard !stopping.isStopped else { return }
            let reason = "the log is damaged: \(error.message); appends are refused until it is repaired"
            logger.error("log verification failed", metadata: ["reason": "\(reason)"])
            let refusal = StorageError(code: .stopped, message: reason, cause: error)
            for pending in queue.stop(reason: reason) {
                pending.fail(refusal)
            }
            return
        }
        logger.info("sealed log segments verified", metadata: ["seconds": "\(ContinuousClock.now - started)"])
    }
}
