/// A connection to logbookd, shared by any number of tasks.
///
/// Calls from many tasks run at once on the one connection (they are multiplexed by call
/// id). Connect with ``connect(socketPath:clientName:)``, and ``close()`` when done.
///
/// ```swift
/// let client = try await LogbookClient.connect(socketPath: "./logbook.sock")
/// let result = try await client.append(
///     to: "order-42",
///     expected: .noStream,
///     events: [EventData(type: "OrderPlaced", json: #"{"total": 42}"#)]
/// )
/// for try await event in client.read(.stream("order-42")) {
///     print(event.revision, event.type)
/// }
/// await client.close()
/// ```
public final class LogbookClient: Sendable {
    let connection: ClientConnection

    private init(connection: ClientConnection) {
        self.connection = connection
    }

    /// Connects to the daemon's Unix domain socket and performs the handshake.
    ///
    /// - Throws: ``LogbookError`` with code `.unavailable` when the daemon cannot be
    ///   reached, or the code the daemon refused the connection with.
    public static func connect(socketPath: String, clientName: String = "logbook-swift") async throws -> LogbookClient {
        LogbookClient(connection: try await ClientConnection.connect(socketPath: socketPath, clientName: clientName))
    }

    /// Closes the connection. Calls still open fail with `.unavailable`.
    public func close() async {
        await self.connection.close()
    }

    /// What the server said in the handshake: its version, its limits, and who it thinks
    /// this process is.
    public var serverInfo: ServerInfo {
        self.connection.serverInfo
    }

    /// The socket this client is connected to.
    public var socketPath: String {
        self.connection.socketPath
    }
}
