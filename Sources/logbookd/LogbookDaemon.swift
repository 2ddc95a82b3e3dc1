internal import ArgumentParser
internal import CoreMetrics
internal import Logging
internal import LogbookPostgres
internal import LogbookServer
internal import LogbookStorage
internal import ServiceLifecycle
internal import UnixSignals

#if canImport(Glibc)
internal import Glibc
#endif

/// `logbookd` serves; `logbookd restore` makes a data directory from a backup.
///
/// Dispatched here rather than as an ArgumentParser subcommand: a parent command's
/// options are parsed for its subcommands too, so the daemon's `--data` would take
/// restore's.
@main
enum Entry {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "restore" {
            await RestoreCommand.main(Array(arguments.dropFirst()))
        } else {
            await LogbookDaemon.main(arguments)
        }
    }
}

/// `logbookd`: the Logbook daemon.
struct LogbookDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logbookd",
        abstract: "The Logbook event store daemon.",
        discussion: """
            Serves Append, ReadStream, Subscribe (catch-up and persistent groups), Query (views and \
            the system views $streams, $groups, $event_types, $stats) and Admin on a Unix socket. \
            A new data directory gets the log engine: segment files under log/ hold the events, \
            and SQLite beside them (logbook.sqlite) their indexes, the groups' progress and the \
            views. A directory written by the SQLite engine opens with it. \
            With --store postgresql://..., the log, the groups and the views live in PostgreSQL \
            instead, shared by every logbookd that names the same database. \
            With --acl FILE, each call is checked against the grants in FILE for the connection's \
            user (read from the socket, SO_PEERCRED); SIGHUP reloads it. \
            SIGTERM or SIGINT stops it gracefully: accepted appends finish, then it exits. \
            `logbookd restore BACKUP --data NEW` makes a data directory from a backup.
            """,
        version: ServerVersion.server
    )

    @Option(help: "The Unix socket to listen on.", completion: .file())
    var socket = "./logbook.sock"

    @Option(help: "The data directory; created when missing.", completion: .directory)
    var data = "./logbook-data"

    @Option(help: """
        The store for a new data directory: log (segment files, the default) or sqlite (every \
        event a SQLite row). An existing directory opens with the engine that wrote it.
        """)
    var engine: EngineOption?

    @Option(help: ArgumentHelp("""
        A PostgreSQL database to keep the log, the groups and the views in instead of --data, \
        shared by every logbookd that names it: \
        postgresql://[user[:password]@][host][:port][/database][?host=/socket/dir].
        """, valueName: "url"))
    var store: String?

    @Option(help: "full: an acknowledged append is on disk (fsync per commit). normal: faster, the last commits may be lost on power loss.")
    var sync: SyncOption = .full

    @Option(help: """
        An access-control file: lines of WHO PERMISSIONS WHAT..., like \
        `user:billing read,append stream:billing-*` (the README has the format). What it does \
        not grant is denied; root and the daemon's own user may do anything. SIGHUP reloads \
        it. Without it, whoever can open the socket may do anything.
        """, completion: .file())
    var acl: String?

    @Flag(help: """
        Let the data directory's group read it (mode 750, files 640), for a backup user. \
        Without it the directory is the daemon's alone (700, files 600), and one that other \
        users can enter is refused at start.
        """)
    var allowGroupRead = false

    @Option(help: """
        Connections at once; more are refused at accept with RESOURCE_EXHAUSTED.
        """)
    var connectionsMax = Limits().connectionsMax

    @Option(help: """
        Connections at once from one uid, so that one misbehaving service cannot take every \
        connection (root and the daemon's own user are not capped).
        """)
    var connectionsPerUid = Limits().connectionsPerUIDMax

    @Option(help: "The socket file's mode, in octal.")
    var socketMode = "660"

    @Option(help: """
        The event loops that serve the connections; one per core by default. Fewer leave \
        more of the host to its clients: appends cost less CPU, reads go slower.
        """)
    var eventLoops: Int?

    @Option(help: ArgumentHelp("""
        Serve the metrics for Prometheus at http://ADDRESS/metrics (GET), e.g. \
        127.0.0.1:9464 (port 0: one the kernel picks, logged). Off by default; whoever reaches \
        the port reads them, so keep it on the loopback. `logbook metrics` prints the same \
        over the socket.
        """, valueName: "host:port"))
    var metricsListen: String?

    @Option(help: "The least severe messages logbookd writes to stderr.")
    var logLevel: LevelOption = .info

    @Option(help: ArgumentHelp("Seconds a new connection has to send Hello.", visibility: .hidden))
    var helloTimeout: Int?

    @Option(help: ArgumentHelp("Bytes of each new log segment file (tests fill small disks with it).", visibility: .hidden))
    var logSegmentBytes: Int64?

    func validate() throws {
        if let store = self.store {
            do {
                _ = try PostgresURL(store)
            } catch {
                throw ValidationError("--store: \(error)")
            }
            if self.engine != nil {
                throw ValidationError("--engine chooses the engine of a data directory; --store names a PostgreSQL database instead")
            }
        }
        if self.connectionsMax < 1 {
            throw ValidationError("--connections-max must be at least 1")
        }
        if self.connectionsPerUid < 1 {
            throw ValidationError("--connections-per-uid must be at least 1")
        }
        if let loops = self.eventLoops, !(1...256).contains(loops) {
            throw ValidationError("--event-loops must be between 1 and 256, not \(loops)")
        }
        if let listen = self.metricsListen, MetricsEndpoint.Address(parsing: listen) == nil {
            throw ValidationError("--metrics-listen takes an IP address and a port, like 127.0.0.1:9464 or [::1]:9464, not \(listen)")
        }
        guard UInt32(self.socketMode, radix: 8) != nil else {
            throw ValidationError("--socket-mode must be octal, like 660")
        }
    }

    func run() async throws {
        let level = self.logLevel.level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "logbookd")
        // Before any store opens: its writers make their metrics from the process's factory.
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        DataDirectory.restrictNewFiles(allowGroupRead: self.allowGroupRead)
        // Loaded before anything else: a bad file stops the start with its line and reason.
        var access: AccessControl?
        if let path = self.acl {
            do {
                access = try AccessControl(path: path, logger: logger)
            } catch {
                Self.fail(error.description)
            }
        }

        do {
            try LogbookServer.prepareSocket(self.socket)
        } catch {
            Self.fail(error.description)
        }
        let store: any ServedStore
        if let url = self.store.flatMap({ try? PostgresURL($0) }) {
            do {
                store = try await PostgresStore.open(url, logger: logger)
            } catch {
                Self.fail((error as? StorageError)?.message ?? "cannot open the PostgreSQL store \(url.redacted): \(error)")
            }
        } else {
            if let refusal = DataDirectory.refusal(self.data, allowGroupRead: self.allowGroupRead) {
                Self.fail(refusal)
            }
            do {
                store = try EventStore(directory: self.data, sync: self.sync.mode, logger: logger, engine: self.engine?.engine,
                    logSegmentBytes: self.logSegmentBytes)
            } catch {
                Self.fail("cannot open the data directory \(self.data): \(error)")
            }
        }

        var configuration = ServerConfiguration(socketPath: self.socket)
        configuration.socketMode = UInt32(self.socketMode, radix: 8) ?? 0o660
        configuration.access = access
        configuration.metrics = metrics
        configuration.metricsListen = self.metricsListen.flatMap(MetricsEndpoint.Address.init(parsing:))
        let systemd = SystemdNotify(logger: logger)
        let socket = self.socket
        configuration.onServing = { systemd.serving(socket: socket) }
        configuration.onStopping = { systemd.stopping() }
        configuration.limits.connectionsMax = self.connectionsMax
        configuration.limits.connectionsPerUIDMax = self.connectionsPerUid
        if let loops = self.eventLoops {
            configuration.eventLoops = loops
        }
        if let seconds = self.helloTimeout {
            configuration.limits.helloTimeout = .seconds(seconds)
        }
        let server = LogbookServer(configuration: configuration, store: store, logger: logger)
        // Services stop in reverse order: the server drains first, then the store closes.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: StoreService(store: store)), .init(service: server)]
        if let access {
            services.insert(.init(service: ReloadOnHangup(access: access)), at: 0)
        }
        var lifecycle = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        lifecycle.maximumGracefulShutdownDuration = configuration.limits.shutdownGraceMax
        let group = ServiceGroup(configuration: lifecycle)
        do {
            try await group.run()
        } catch let error as LogbookServer.StartError {
            Self.fail(error.description)
        } catch let error as ServiceGroupError {
            Self.fail("\(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        let line = Array("logbookd: error: \(message)\n".utf8)
        _ = line.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
        Glibc.exit(1)
    }
}
