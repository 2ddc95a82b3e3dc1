internal import Synchronization

/// Counters `$stats` reports, kept by the server as it serves.
final class ServerStats: Sendable {
    private let started = ContinuousClock.now
    private let appendCount = Atomic<UInt64>(0)
    private let connectionCount = Mutex<Connections>(Connections())

    private struct Connections {
        var total = 0
        var byUID: [UInt32: Int] = [:]
    }

    enum Admission: Equatable {
        case admitted
        case tooMany
        case tooManyFromUID
    }

    var appends: UInt64 { self.appendCount.load(ordering: .relaxed) }
    var connections: Int { self.connectionCount.withLock { $0.total } }
    var uptime: Duration { ContinuousClock.now - self.started }

    func appended(_ count: Int) {
        self.appendCount.add(UInt64(count), ordering: .relaxed)
    }

    /// Counts a new connection unless `max` are open already.
    /// Counts a new connection from `uid` unless `max` are open already, or `perUIDMax`
    /// from that uid (nil: no cap for it).
    func admitConnection(uid: UInt32, max: Int, perUIDMax: Int?) -> Admission {
        self.connectionCount.withLock { connections in
            guard connections.total < max else { return .tooMany }
            let fromUID = connections.byUID[uid, default: 0]
            if let perUIDMax, fromUID >= perUIDMax { return .tooManyFromUID }
            connections.total += 1
            connections.byUID[uid] = fromUID + 1
            return .admitted
        }
    }

    func connectionClosed(uid: UInt32) {
        self.connectionCount.withLock { connections in
            connections.total -= 1
            let left = connections.byUID[uid, default: 1] - 1
            connections.byUID[uid] = left == 0 ? nil : left
        }
    }
}
