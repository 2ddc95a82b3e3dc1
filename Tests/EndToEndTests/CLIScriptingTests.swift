internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// The `logbook` command line as scripts use it (issue 10): `ping`, exit status 14
/// (UNAVAILABLE) from every command when logbookd cannot be reached, `--version`, and the
/// shell completion scripts.
@Suite("CLI for scripts", .serialized, .blocksItsThread)
struct CLIScriptingTests {
    // MARK: ping

    @Test func pingPrintsWhatTheHandshakeSaid() throws {
        let daemon = try Daemon()
        try daemon.start()
        let cli = CLI(socketPath: daemon.socketPath)
        let hello = try RawClient(path: daemon.socketPath).hello()

        let json = try cli.run(["ping", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let objects = try json.json()
        try #require(objects.count == 1, "one object: \(json.stdout)")
        #expect(objects[0]["socket"] as? String == daemon.socketPath)
        #expect(objects[0]["server_version"] as? String == hello.serverVersion)
        #expect(objects[0]["protocol_version"] as? Int == Int(hello.protocolVersion))
        #expect((objects[0]["round_trip_us"] as? Int).map { $0 >= 0 } == true, "\(objects[0])")
        #expect(Set(objects[0].keys) == ["socket", "server_version", "protocol_version", "round_trip_us"])

        let plain = try cli.run(["ping"])
        #expect(plain.status == 0, "\(plain.stderr)")
        try #require(plain.lines.count == 1, "\(plain.stdout)")
        let line = plain.lines[0]
        let expectedStart = "logbookd \(hello.serverVersion) at \(daemon.socketPath): protocol \(hello.protocolVersion), round trip "
        #expect(line.hasPrefix(expectedStart), "\(line)")
        #expect(line.hasSuffix(" ms"), "\(line)")
        #expect(Double(line.dropFirst(expectedStart.count).dropLast(" ms".count)) != nil, "\(line)")
    }

    @Test func pingIsUnavailableOnceTheDaemonIsKilledAndWaitsForItsReturn() throws {
        let daemon = try Daemon()
        try daemon.start()
        let cli = CLI(socketPath: daemon.socketPath)
        #expect(try cli.run(["ping"]).status == 0)

        daemon.stop(signal: SIGKILL)
        #expect(FileManager.default.fileExists(atPath: daemon.socketPath), "SIGKILL leaves the socket file behind")
        let stale = try cli.run(["ping"])
        #expect(stale.status == 14, "\(stale.stderr)")
        #expect(stale.stderr.contains(daemon.socketPath), "\(stale.stderr)")
        #expect(stale.stdout.isEmpty)
        let shortWait = try cli.run(["ping", "--wait", "0.2"])
        #expect(shortWait.status == 14, "--wait gives up: \(shortWait.stderr)")

        // A script that has just started logbookd waits for it with `ping --wait`: started
        // while the daemon is down, it ends once the restarted daemon answers.
        let waiting = try BackgroundCLI(["ping", "--wait", "120", "--json", "--socket", daemon.socketPath])
        try daemon.start()
        let waited = waiting.finish()
        #expect(waited.status == 0, "\(waited.stderr)")
        #expect(try waited.json().first?["socket"] as? String == daemon.socketPath)
    }

    @Test func pingRefusesABadWait() throws {
        let missing = try Daemon()
        let cli = CLI(socketPath: missing.socketPath)
        for wait in ["-1", "nan", "soon", "86401"] {
            let result = try cli.run(["ping", "--wait", wait])
            #expect(result.status == 64, "--wait \(wait): \(result.stderr)")
        }
    }

    // MARK: Exit status 14 everywhere

    /// How logbookd can be out of reach.
    enum Unreachable: String, CaseIterable, Sendable {
        /// No file at the socket path: the daemon never ran there.
        case noSocket
        /// A socket file nobody listens on: what a daemon killed with SIGKILL leaves.
        case staleSocket
        /// A file that is not a socket at the socket path.
        case notASocket

        /// Makes the path of `directory`'s daemon unreachable in this way.
        func prepare(_ daemon: Daemon) throws {
            switch self {
            case .noSocket:
                break
            case .staleSocket:
                try StaleSocket.make(at: daemon.socketPath)
            case .notASocket:
                try Data("not a socket".utf8).write(to: URL(fileURLWithPath: daemon.socketPath))
            }
        }
    }

    /// One command line of a subcommand, with the input it needs.
    struct Invocation: Sendable, CustomTestStringConvertible {
        /// The subcommand's path, as `logbook --experimental-dump-help` names it.
        var command: String
        var arguments: [String]
        var stdin: String?

        init(_ command: String, _ arguments: [String], stdin: String? = nil) {
            self.command = command
            self.arguments = arguments
            self.stdin = stdin
        }

        var testDescription: String { (self.arguments + (self.stdin == nil ? [] : ["< stdin"])).joined(separator: " ") }
    }

    /// Every subcommand, in each of its modes that connects.
    static let everyCommand: [Invocation] = [
        Invocation("append", ["append", "s-1", "--type", "T", "--data", #"{"n":1}"#]),
        Invocation("append", ["append", "s-1"], stdin: #"{"type":"T","data":{"n":1}}"# + "\n"),
        Invocation("read", ["read", "--all"]),
        Invocation("read", ["read", "s-1", "--backward", "--json"]),
        Invocation("subscribe", ["subscribe", "--all"]),
        Invocation("subscribe", ["subscribe", "--group", "g"]),
        Invocation("groups create", ["groups", "create", "g", "--all", "--strategy", "single"]),
        Invocation("groups list", ["groups", "list"]),
        Invocation("groups info", ["groups", "info", "g"]),
        Invocation("groups delete", ["groups", "delete", "g"]),
        Invocation("groups reset", ["groups", "reset", "g", "--to", "3"]),
        Invocation("groups parked", ["groups", "parked", "g", "--json"]),
        Invocation("groups replay-parked", ["groups", "replay-parked", "g"]),
        Invocation("views define", ["views", "define", "v", "--group", "g", "--index", "$.n"]),
        Invocation("views list", ["views", "list"]),
        Invocation("views drop", ["views", "drop", "v"]),
        Invocation("query", ["query", "v", "--key", "k"]),
        Invocation("query", ["query", "$stats", "--min-position", "1", "--wait", "100"]),
        Invocation("streams list", ["streams", "--prefix", "s-"]),
        Invocation("streams list", ["streams", "list", "--prefix", "s-"]),
        Invocation("streams info", ["streams", "info", "s-1"]),
        Invocation("streams delete", ["streams", "delete", "s-1", "--expect", "2", "--hard"]),
        Invocation("streams set-meta", ["streams", "set-meta", "s-1", "--max-count", "3", "--max-age", "60"]),
        Invocation("stats", ["stats", "--json"]),
        Invocation("metrics", ["metrics"]),
        Invocation("top", ["top", "--once"]),
        Invocation("export", ["export"]),
        Invocation("import", ["import", "-"], stdin: #"{"stream":"s-1","type":"T","data":{}}"# + "\n"),
        Invocation("backup", ["backup", "/tmp/lb-unreachable-backup"]),
        Invocation("ping", ["ping"]),
        Invocation("bench", ["bench", "append", "--events", "10"]),
        Invocation("bench", ["bench", "read", "--events", "10"]),
        Invocation("bench", ["bench", "subscribe", "--events", "10"]),
        Invocation("bench", ["bench", "subscribe", "--group", "--events", "10"]),
        Invocation("bench", ["bench", "drain", "--events", "10"]),
        Invocation("bench", ["bench", "query", "--docs", "10", "--queries", "10"]),
        Invocation("bench", ["bench", "visible", "--events", "10"]),
    ]

    @Test(arguments: Unreachable.allCases, Self.everyCommand)
    func everyCommandExits14WhenTheDaemonCannotBeReached(_ unreachable: Unreachable, _ invocation: Invocation) throws {
        let missing = try Daemon()
        try unreachable.prepare(missing)
        let result = try CLI(socketPath: missing.socketPath).run(invocation.arguments, stdin: invocation.stdin)
        #expect(result.status == 14, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
        #expect(result.stderr.contains(missing.socketPath), "the error names the socket: \(result.stderr)")
        #expect(result.stdout.isEmpty, "\(result.stdout)")
    }

    @Test func theTableHoldsEverySubcommand() throws {
        let dump = try CLI(socketPath: "/nonexistent").run(["--experimental-dump-help"])
        try #require(dump.status == 0, "\(dump.stderr)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        let command = try #require(root["command"] as? [String: Any])
        var leaves: Set<String> = []
        func walk(_ command: [String: Any], _ path: [String]) {
            guard let subcommands = command["subcommands"] as? [[String: Any]], !subcommands.isEmpty else {
                leaves.insert(path.joined(separator: " "))
                return
            }
            for subcommand in subcommands {
                walk(subcommand, path + [subcommand["commandName"] as? String ?? "?"])
            }
        }
        walk(command, [])
        leaves.remove("help")  // prints help; never connects
        #expect(leaves.count > 10, "\(leaves)")
        #expect(leaves == Set(Self.everyCommand.map(\.command)))
    }

    @Test func aConnectionLostMidCommandExits14() async throws {
        let daemon = try Daemon()
        try daemon.start()
        let cli = CLI(socketPath: daemon.socketPath)
        #expect(try cli.run(["groups", "create", "g", "--all"]).status == 0)
        #expect(try cli.run(["views", "define", "v", "--group", "g"]).status == 0)
        // Waits for a position nothing will reach; the daemon is killed meanwhile.
        let query = try BackgroundCLI(["query", "v", "--min-position", "1000", "--wait", "300000", "--socket", daemon.socketPath])
        let connected = try await eventually {
            let stats = try cli.run(["stats", "--json"]).json().first
            return stats?["connections"] as? Int == 2  // the query's and this one's
        }
        #expect(connected)
        daemon.stop(signal: SIGKILL)
        let result = query.finish()
        #expect(result.status == 14, "\(result.stderr)")
        #expect(result.stderr.contains(daemon.socketPath), "\(result.stderr)")
    }

    @Test func localErrorsStay1AndUsageErrors64() throws {
        let missing = try Daemon()
        let cli = CLI(socketPath: missing.socketPath)
        let unreadable = try cli.run(["append", "s-1", "--type", "T", "--data", "@" + missing.directory.appendingPathComponent("none.json").path])
        #expect(unreadable.status == 1, "a file that cannot be read is a local error: \(unreadable.stderr)")
        #expect(unreadable.stderr.contains("none.json"))
        let usage = try cli.run(["ping", "extra"])
        #expect(usage.status == 64, "\(usage.stderr)")
    }

    // MARK: --version

    @Test func versionPrintsTheToolsVersion() throws {
        let cli = CLI(socketPath: "/nonexistent")
        let result = try cli.run(["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        try #require(result.lines.count == 1, "\(result.stdout)")
        let parts = result.lines[0].split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3 && parts.allSatisfy { UInt($0) != nil }, "MAJOR.MINOR.PATCH: \(result.lines[0])")
    }

    // MARK: Shell completion

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptNamesTheSubcommandsAndTheChoices(_ shell: String) throws {
        let result = try CLI(socketPath: "/nonexistent").run(["--generate-completion-script", shell])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        let script = result.stdout
        let words = Set(script.split(whereSeparator: { !($0.isLetter || $0 == "-") }).map(String.init))
        let subcommands = [
            "append", "read", "subscribe", "groups", "views", "query", "streams", "stats", "ping", "bench",
            "create", "list", "info", "delete", "reset", "parked", "replay-parked", "define", "drop",
        ]
        for subcommand in subcommands {
            #expect(words.contains(subcommand), "\(shell): \(subcommand)")
        }
        // Each option's fixed choices are listed together (bashCompletes checks that bash
        // offers them after their option).
        let lines = script.split(separator: "\n")
        for choices in [["by-stream", "round-robin", "single"], ["any", "no-stream", "exists"], ["start", "end"]] {
            #expect(lines.contains { line in choices.allSatisfy { line.contains($0) } }, "\(shell): \(choices)")
        }
    }

    @Test(arguments: [
        ("logbook ", ["append", "read", "subscribe", "groups", "views", "query", "streams", "stats", "metrics", "top", "export", "import", "backup", "ping", "bench", "help"]),
        ("logbook groups ", ["create", "list", "info", "delete", "reset", "parked", "replay-parked"]),
        ("logbook views ", ["define", "list", "drop"]),
        ("logbook streams ", ["list", "info", "delete", "set-meta"]),
        ("logbook groups create g --all --strategy ", ["by-stream", "round-robin", "single"]),
        ("logbook groups create g --all --strategy ro", ["round-robin"]),
        ("logbook append s-1 --expect ", ["any", "no-stream", "exists"]),
        ("logbook read --all --from ", ["start", "end"]),
        ("logbook subscribe --all --from e", ["end"]),
        ("logbook bench ", ["append", "read", "subscribe", "drain", "query", "visible"]),
        ("logbook bench query --by ", ["key", "predicate"]),
    ])
    func bashCompletes(_ line: String, _ expected: [String]) throws {
        let script = try CLI(socketPath: "/nonexistent").run(["--generate-completion-script", "bash"])
        try #require(script.status == 0, "\(script.stderr)")
        let words = try BashCompletion(script: script.stdout).complete(line)
        let offered = words.filter { !$0.hasPrefix("-") }
        #expect(offered == expected, "\(line)")
    }
}
