internal import Foundation
internal import Synchronization

/// Counters `$stats` reports, kept by the server as it serves.
final class ServerStats: Sendable {
    private let started = ContinuousClock.now
    private let appendCount = Atomic<UInt64>(0)
    private let connectionCount = Mutex<Int>(0)

    var appends: UInt64 { self.appendCount.load(ordering: .relaxed) }
    var connections: Int { self.connectionCount.withLock { $0 } }
    var uptime: Duration { ContinuousClock.now - self.started }

    func appended(_ count: Int) {
        self.appendCount.add(UInt64(count), ordering: .relaxed)
    }

    /// Counts a new connection unless `max` are open already.
    func admitConnection(max: Int) -> Bool {
        self.connectionCount.withLock { count in
            guard count < max else { return false }
            count += 1
            return true
        }
    }

    func connectionClosed() {
        self.connectionCount.withLock { $0 -= 1 }
    }

    /// Bytes of the database and its write-ahead log on disk.
    static func bytesOnDisk(databasePath: String) -> UInt64 {
        [databasePath, databasePath + "-wal"].reduce(0) { total, path in
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value
            return total + (size ?? 0)
        }
    }
}
