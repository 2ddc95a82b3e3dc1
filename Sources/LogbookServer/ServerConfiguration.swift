internal import NIOCore

/// How the server listens and what it allows.
package struct ServerConfiguration: Sendable {
    /// The Unix socket path clients connect to.
    package var socketPath: String
    /// The socket file's permission bits: owner and group may connect.
    package var socketMode: UInt32 = 0o660
    package var limits = Limits()
    /// The access rules every call is checked against (`--acl`); nil lets whoever can open
    /// the socket do anything.
    package var access: AccessControl?
    /// The event loops that serve the connections (``eventLoopsDefault`` unless given).
    package var eventLoops = Self.eventLoopsDefault
    /// Where the daemon keeps its metrics. logbookd bootstraps swift-metrics with its
    /// factory, so the stores' writers record into the same registry.
    package var metrics = ServerMetrics()
    /// Where `GET /metrics` is served over HTTP (`--metrics-listen`); nil: nowhere.
    package var metricsListen: MetricsEndpoint.Address?
    /// Called once the socket serves (its mode set), and once a graceful shutdown begins:
    /// logbookd tells systemd (`READY=1`, `STOPPING=1`).
    package var onServing: (@Sendable () -> Void)?
    package var onStopping: (@Sendable () -> Void)?

    /// One per core. Fewer trade reads for appends: on two cores, one loop took 15% less
    /// daemon CPU per append with 50 clients (the loop commits every batch itself, where
    /// two loops hand each other's appends to the writer thread) at the same append and
    /// drain throughput, but lookups by 16 clients about 10% and reads of `$all` about 20%
    /// slower (Benchmarks/README.md).
    package static var eventLoopsDefault: Int { System.coreCount }

    package init(socketPath: String) {
        self.socketPath = socketPath
    }
}
