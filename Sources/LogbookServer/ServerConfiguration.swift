/// How the server listens and what it allows.
package struct ServerConfiguration: Sendable {
    /// The Unix socket path clients connect to.
    package var socketPath: String
    /// The socket file's permission bits: owner and group may connect.
    package var socketMode: UInt32 = 0o660
    package var limits = Limits()
    /// Threads for blocking storage reads, so they never hold the event loops or the
    /// cooperative pool.
    package var readThreads = 4

    package init(socketPath: String) {
        self.socketPath = socketPath
    }
}

/// The versions this build speaks and reports.
package enum ServerVersion {
    package static let server = "0.1.0"
    package static let protocolVersion: UInt32 = 1
}
