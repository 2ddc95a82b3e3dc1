internal import NIOCore
internal import Synchronization

/// Connections accepted but not yet taken by the accept loop.
///
/// NIO's async server channel drops the connections it still buffers when its accept loop
/// ends (swift-nio#2637), and a dropped connection's writer, never finished, traps: a
/// SIGTERM just after a client connected crashed the daemon. Each connection is held here
/// from its accept until the loop takes it; those left when the loop ends are refused
/// properly (`shuttingDown`) instead of dropped.
final class AcceptedConnections: Sendable {
    private let waiting = Mutex<[ObjectIdentifier: Connection]>([:])

    func add(_ connection: Connection) {
        self.waiting.withLock { $0[Self.key(connection)] = connection }
    }

    func take(_ connection: Connection) {
        _ = self.waiting.withLock { $0.removeValue(forKey: Self.key(connection)) }
    }

    func takeAll() -> [Connection] {
        self.waiting.withLock { waiting in
            defer { waiting = [:] }
            return Array(waiting.values)
        }
    }

    private static func key(_ connection: Connection) -> ObjectIdentifier {
        ObjectIdentifier(connection.channel.channel)
    }
}
