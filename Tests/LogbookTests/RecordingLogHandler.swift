internal import Foundation
internal import Logging
internal import Synchronization

/// A swift-log handler that keeps what it is given, so that a test can see what the client
/// logged, and wait for a line that tells it the client reached a point.
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    /// A logger that records into this recorder, from `level` up.
    func logger(level: Logger.Level = .debug) -> Logger {
        var logger = Logger(label: "test") { _ in Handler(recorder: self) }
        logger.logLevel = level
        return logger
    }

    var all: [Entry] { self.entries.withLock { $0 } }

    /// The entries whose message contains `text`.
    func matching(_ text: String) -> [Entry] {
        self.all.filter { $0.message.contains(text) }
    }

    /// Waits until an entry's message contains `text`, up to `seconds`; false if none did.
    func waitFor(_ text: String, count: Int = 1, seconds: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if self.matching(text).count >= count { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return self.matching(text).count >= count
    }

    fileprivate func record(_ entry: Entry) {
        self.entries.withLock { $0.append(entry) }
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = self.metadata
            for (key, value) in event.metadata ?? [:] { merged[key] = value }
            self.recorder.record(Entry(
                level: event.level,
                message: "\(event.message)",
                metadata: merged.mapValues { "\($0)" }
            ))
        }
    }
}
