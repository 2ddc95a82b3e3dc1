/// How the server listens and what it allows.
package struct ServerConfiguration: Sendable {
    /// The Unix socket path clients connect to.
    package var socketPath: String
    /// The socket file's permission bits: owner and group may connect.
    package var socketMode: UInt32 = 0o660
    package var limits = Limits()

    package init(socketPath: String) {
        self.socketPath = socketPath
    }
}
