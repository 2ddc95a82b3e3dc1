#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
internal import LogbookWire
public import Logging
public import ServiceLifecycle

/// A connection to logbookd, shared by any number of tasks, that survives daemon restarts.
///
/// Calls from many tasks run at once on the one connection (they are multiplexed by call
/// id). When the connection is lost (the daemon restarts, or its socket is replaced), the
/// client connects again by itself, with jittered exponential back-off:
/// - a call made while the connection is down waits for the next one, up to its timeout
///   (else ``Configuration/reconnectWait``, 30 s), then fails with `.unavailable`;
/// - a call in flight at the loss fails with `.unavailable`, and
///   ``LogbookError/isSafeToRetry`` says whether to send it again;
/// - an append in flight at the loss is sent again by itself (same event ids, so the
///   daemon never writes it twice), unless ``Configuration/retriesAppends`` is off.
///
/// Subscriptions and group consumers open connections of their own, and resume after a
/// restart too. The loss and the reconnection are logged at info on the `logger` given.
///
/// Connect with ``connect(socketPath:clientName:configuration:logger:)`` and ``close()``
/// when done:
///
/// ```swift
/// let client = try await LogbookClient.connect()   // $LOGBOOK_SOCKET, else ./logbook.sock
/// let result = try await client.append(
///     to: "order-42",
///     expected: .noStream,
///     events: [try EventData(type: "OrderPlaced", encoding: OrderPlaced(total: 42))]
/// )
/// for try await event in client.read(.stream("order-42")) {
///     print(event.revision, event.type)
/// }
/// await client.close()
/// ```
///
/// Or run it as a swift-service-lifecycle `Service`, as `PostgresClient` and `GRPCClient`
/// run: ``run()`` connects (and keeps connecting until the daemon is there), calls wait for
/// the connection, and a graceful shutdown closes it. List the client before the services
/// that use it, so that it is shut down after them:
///
/// ```swift
/// let client = LogbookClient(socketPath: "/run/logbook.sock", logger: logger)
/// let group = ServiceGroup(services: [client, worker], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public final class LogbookClient: Sendable, Service {
    let shared: SharedConnection

    private init(shared: SharedConnection) {
        self.shared = shared
    }

    /// A client that connects when ``run()`` starts or the first call needs it. Nothing
    /// is checked here: a daemon that is not there makes calls wait, up to their timeout
    /// or ``Configuration/reconnectWait``.
    ///
    /// - Parameters:
    ///   - socketPath: The daemon's socket; nil for `$LOGBOOK_SOCKET`, else `./logbook.sock`.
    ///   - clientName: The name the daemon logs this client under.
    ///   - configuration: How to ride out a lost connection.
    ///   - logger: Where the loss and the reconnection of the connection are logged (info),
    ///     and attempts to connect (debug); nothing is logged by default.
    public convenience init(
        socketPath: String? = nil,
        clientName: String = "logbook-swift",
        configuration: Configuration = Configuration(),
        logger: Logger = LogbookClient.loggingDisabled
    ) {
        self.init(shared: SharedConnection(
            socketPath: socketPath ?? Self.defaultSocketPath,
            clientName: clientName,
            configuration: configuration,
            logger: logger
        ))
    }

    /// Connects to the daemon's Unix domain socket and performs the handshake.
    ///
    /// This first connection fails fast; once it is made, the client reconnects by itself
    /// whenever the connection is lost.
    ///
    /// - Parameters:
    ///   - socketPath: The daemon's socket; nil for `$LOGBOOK_SOCKET`, else `./logbook.sock`.
    ///   - clientName: The name the daemon logs this client under.
    ///   - configuration: How to ride out a lost connection.
    ///   - logger: Where the loss and the reconnection of the connection are logged (info);
    ///     nothing is logged by default.
    /// - Throws: ``LogbookError`` with code `.unavailable` when the daemon cannot be
    ///   reached, or the code the daemon refused the connection with.
    public static func connect(
        socketPath: String? = nil,
        clientName: String = "logbook-swift",
        configuration: Configuration = Configuration(),
        logger: Logger = LogbookClient.loggingDisabled
    ) async throws -> LogbookClient {
        let connection = try await ClientConnection.connect(socketPath: socketPath ?? Self.defaultSocketPath, clientName: clientName)
        return LogbookClient(shared: SharedConnection(connected: connection, configuration: configuration, logger: logger))
    }

    /// The executor of the event loop this client's connection runs on.
    ///
    /// A task that prefers it runs its calls on the connection's own thread: the request
    /// leaves and the answer resumes the task without a hop between threads, which takes a
    /// fifth to a quarter off the client's CPU per append (the README has the figures). Code run this way shares the thread with the connection's I/O, so it must
    /// not block:
    ///
    /// ```swift
    /// try await withTaskExecutorPreference(client.executor) {
    ///     for order in orders {
    ///         _ = try await client.append(to: "order-\(order.id)", events: order.events)
    ///     }
    /// }
    /// ```
    public var executor: any TaskExecutor {
        self.shared.executor
    }

    /// Keeps the client connected until the task is cancelled, a `ServiceGroup` shuts down
    /// gracefully, or ``close()`` is called; then closes it and returns.
    ///
    /// While it runs, a lost connection is replaced at once rather than when the next call
    /// needs it, and attempts go on (with back-off) for as long as the daemon is away.
    public func run() async throws {
        await self.shared.run()
    }

    /// Closes the connection. Calls still open or waiting fail with `.unavailable`, and the
    /// client does not reconnect.
    public func close() async {
        await self.shared.close()
    }

    /// What the server said in the latest handshake: its version, its limits, and who it
    /// thinks this process is. Empty (version "", every limit 0) until the first connection
    /// of a client made with ``init(socketPath:clientName:configuration:logger:)``.
    public var serverInfo: ServerInfo {
        self.shared.serverInfo ?? ServerInfo(wire: HelloReply())
    }

    /// This library's release: Logbook's daemon, client and CLI ship as one, with one number.
    public static let version: String = WireProtocol.release

    /// The socket this client connects to.
    public var socketPath: String {
        self.shared.socketPath
    }

    /// How this client rides out a lost connection.
    public var configuration: Configuration {
        self.shared.configuration
    }

    /// Appends this client sent again after their connection was lost (or the daemon
    /// answered UNAVAILABLE), since it was made.
    package var retriedAppends: Int {
        self.shared.retriedAppends
    }

    /// The logger of a client given none: it drops everything.
    public static let loggingDisabled = Logger(label: "logbook-client", factory: { _ in SwiftLogNoOpLogHandler() })

    /// `$LOGBOOK_SOCKET` when set and not empty, else `./logbook.sock` (the daemon's default).
    static var defaultSocketPath: String {
        Self.defaultSocketPath(environment: ProcessInfo.processInfo.environment)
    }

    /// The socket path a client given none uses, in `environment`.
    package static func defaultSocketPath(environment: [String: String]) -> String {
        if let path = environment["LOGBOOK_SOCKET"], !path.isEmpty {
            return path
        }
        return "./logbook.sock"
    }
}
