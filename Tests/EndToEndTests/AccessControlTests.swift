internal import Foundation
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// `logbookd --acl FILE` against real users: the suite (as root, as CI runs it) makes
/// throwaway users and groups, and runs the CLI as them through `setpriv`, so the daemon
/// reads their credentials off the socket as it would any service's.
@Suite("Access control from peer credentials", .enabled(if: getuid() == 0, "needs root to make users and switch to them"), .blocksItsThread)
struct AccessControlTests {
    /// The throwaway accounts, made once per run (kept: a later run finds them).
    /// - alice: read and append on `orders-*`, read on the category `invoice`;
    /// - bob: consume the group `billing`, read the views `public-*`;
    /// - carol, through the group lbacl-ops: admin on the groups and views `team-*`, read on `team-*`;
    /// - dave: nothing, until a reload grants it.
    static let accounts: Result<URL, any Error> = Result {
        for group in ["lbacl-ops"] where try !Self.exists("getent", ["group", group]) {
            try Self.check("groupadd", [group])
        }
        for (user, extra) in [("lbacl-alice", []), ("lbacl-bob", []), ("lbacl-carol", ["-G", "lbacl-ops"]), ("lbacl-dave", [])]
        where try !Self.exists("id", [user]) {
            try Self.check("useradd", ["--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin"] + extra + [user])
        }
        // The CLI where every user can run it: the build directory may sit under a home
        // others cannot enter.
        let bin = URL(fileURLWithPath: "/tmp/lbacl-bin-\(getpid())")
        try? FileManager.default.removeItem(at: bin)
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try FileManager.default.copyItem(
            at: Daemon.binDirectory.appendingPathComponent("logbook"), to: bin.appendingPathComponent("logbook"))
        return bin.appendingPathComponent("logbook")
    }

    static let rules = """
        # Access rules for the tests: WHO PERMISSIONS WHAT...
        user:lbacl-alice  read,append  stream:orders-*
        user:lbacl-alice  read         category:invoice
        user:lbacl-bob    consume      group:billing
        user:lbacl-bob    read         view:public-*
        group:lbacl-ops   admin        group:team-* view:team-*
        group:lbacl-ops   read         stream:team-*   # what their groups may read
        """

    private static func exists(_ command: String, _ arguments: [String]) throws -> Bool {
        try Self.runTool(command, arguments) == 0
    }

    private static func check(_ command: String, _ arguments: [String]) throws {
        let status = try Self.runTool(command, arguments)
        guard status == 0 else { throw Daemon.DaemonError(message: "\(command) \(arguments) exited with \(status)") }
    }

    private static func runTool(_ command: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [command] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A daemon under `rules`, its socket open to every user, with a few streams, a group
    /// and a view written by root (whom the rules do not bind).
    private static func start(rules: String = Self.rules) throws -> (Daemon, aclPath: String) {
        _ = try Self.accounts.get()
        let daemon = try Daemon()
        let acl = daemon.directory.appendingPathComponent("acl").path
        try rules.write(toFile: acl, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: daemon.directory.path)
        try daemon.start(["--acl", acl, "--socket-mode", "666"])
        let root = CLI(socketPath: daemon.socketPath)
        for stream in ["orders-1", "payments-1", "invoice-7", "team-1"] {
            #expect(try root.run(["append", stream, "--type", "Made", "--data", #"{"n":1}"#]).status == 0)
        }
        #expect(try root.run(["groups", "create", "billing", "orders-1"]).status == 0)
        #expect(try root.run(["views", "define", "public-totals", "--group", "billing"]).status == 0)
        return (daemon, acl)
    }

    private static func cli(_ daemon: Daemon, as user: String) throws -> CLI {
        var cli = CLI(socketPath: daemon.socketPath)
        cli.launcher = ["/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(user)", "--init-groups", "--"]
        cli.executable = try Self.accounts.get()
        return cli
    }

    /// Denied: exit 7 (PERMISSION_DENIED), naming what was missing.
    private static func expectDenied(_ result: CLI.Result, _ says: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 7, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains("PERMISSION_DENIED"), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(says), "\(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test("read: granted streams and categories read; any other stream, $all and system views are denied, whether the stream exists or not")
    func read() throws {
        let (daemon, _) = try Self.start()
        let alice = try Self.cli(daemon, as: "lbacl-alice")
        let read = try alice.run(["read", "orders-1"])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.stdout.contains("orders-1@0"))
        #expect(try alice.run(["read", "invoice-7"]).status == 0)
        #expect(try alice.run(["read", "--category", "invoice"]).stdout.contains("invoice-7@0"))

        let existing = try alice.run(["read", "payments-1"])
        Self.expectDenied(existing, "read on stream payments-1 is not granted to uid")
        #expect(existing.stderr.contains("(lbacl-alice)"))
        // A stream that does not exist is denied alike: a denial says nothing of existence.
        let missing = try alice.run(["read", "payments-2"])
        #expect(missing.status == existing.status)
        #expect(missing.stderr.replacingOccurrences(of: "payments-2", with: "payments-1") == existing.stderr)

        Self.expectDenied(try alice.run(["read", "--all"]), "read on every stream")
        Self.expectDenied(try alice.run(["read", "--type", "Made"]), "read on every stream")
        Self.expectDenied(try alice.run(["read", "--category", "orders"]), "read on category orders")
        Self.expectDenied(try alice.run(["streams"]), "read on every stream")
        Self.expectDenied(try alice.run(["stats"]), "admin on the server")
        Self.expectDenied(try Self.cli(daemon, as: "lbacl-dave").run(["read", "orders-1"]), "read on stream orders-1")
        #expect(daemon.log.contains("access denied"))
    }

    @Test("append: granted streams take appends; a denied append writes nothing")
    func append() throws {
        let (daemon, _) = try Self.start()
        let alice = try Self.cli(daemon, as: "lbacl-alice")
        #expect(try alice.run(["append", "orders-2", "--type", "Placed", "--data", "{}"]).status == 0)
        Self.expectDenied(try alice.run(["append", "payments-2", "--type", "Paid", "--data", "{}"]), "append on stream payments-2")
        // Read on a category grants no append.
        Self.expectDenied(try alice.run(["append", "invoice-7", "--type", "Sent", "--data", "{}"]), "append on stream invoice-7")

        let root = CLI(socketPath: daemon.socketPath)
        #expect(try root.run(["read", "orders-2"]).stdout.contains("Placed"))
        #expect(try root.run(["read", "payments-2"]).stdout.isEmpty)
        #expect(try root.run(["read", "invoice-7"]).lines.count == 1)
    }

    @Test("consume: the granted group delivers; another user is denied at once")
    func consume() throws {
        let (daemon, _) = try Self.start()
        let bob = try Self.cli(daemon, as: "lbacl-bob")
        Self.expectDenied(try Self.cli(daemon, as: "lbacl-alice").run(["subscribe", "--group", "billing"]), "consume on group billing")
        Self.expectDenied(try bob.run(["subscribe", "--group", "other"]), "consume on group other")

        // Granted, it runs until stopped: `timeout` stops it once it has had time to deliver.
        var timed = bob
        timed.launcher = ["/usr/bin/timeout", "3"] + bob.launcher
        let consumed = try timed.run(["subscribe", "--group", "billing"])
        #expect(consumed.status == 124, "\(consumed.stderr)")
        #expect(consumed.stdout.contains("orders-1@0"), "\(consumed.stdout) \(consumed.stderr)")
    }

    @Test("admin: granted groups and views are made, listed and dropped; the rest are denied, and lists show only what is granted")
    func admin() throws {
        let (daemon, _) = try Self.start()
        let carol = try Self.cli(daemon, as: "lbacl-carol")
        #expect(try carol.run(["groups", "create", "team-a", "team-1"]).status == 0)
        #expect(try carol.run(["views", "define", "team-totals", "--group", "team-a"]).status == 0)
        let groups = try carol.run(["groups", "list"])
        #expect(groups.status == 0)
        #expect(groups.stdout.contains("team-a"))
        #expect(!groups.stdout.contains("billing"), "\(groups.stdout)")
        let views = try carol.run(["views", "list"])
        #expect(views.stdout.contains("team-totals"))
        #expect(!views.stdout.contains("public-totals"), "\(views.stdout)")

        // A group reads for its consumers: making one needs read on what it reads.
        Self.expectDenied(try carol.run(["groups", "create", "team-b", "--all"]), "read on every stream")
        Self.expectDenied(try carol.run(["groups", "create", "team-c", "orders-1"]), "read on stream orders-1")
        Self.expectDenied(try carol.run(["groups", "create", "billing-2", "team-1"]), "admin on group billing-2")
        Self.expectDenied(try carol.run(["groups", "delete", "billing"]), "admin on group billing")
        Self.expectDenied(try carol.run(["groups", "info", "billing"]), "admin on group billing")
        Self.expectDenied(try carol.run(["views", "drop", "public-totals"]), "admin on view public-totals")
        Self.expectDenied(try Self.cli(daemon, as: "lbacl-dave").run(["groups", "list"]), "admin on any group")
        // The metrics name every group and view: admin on some of them is not enough.
        Self.expectDenied(try carol.run(["metrics"]), "admin on the server")
        // So does a backup, which holds everything; a denied one leaves nothing behind.
        let backup = "/tmp/lbacl-backup-\(UUID().uuidString.prefix(8))"
        Self.expectDenied(try carol.run(["backup", backup]), "admin on the server")
        #expect(!FileManager.default.fileExists(atPath: backup))
        #expect(try CLI(socketPath: daemon.socketPath).run(["metrics"]).stdout.contains("logbook_group_lag{group=\"team-a\"}"))
        Self.expectDenied(try carol.run(["query", "$groups"]), "admin on every group")

        #expect(try carol.run(["views", "drop", "team-totals"]).status == 0)
        #expect(try carol.run(["groups", "delete", "team-a"]).status == 0)
        #expect(try CLI(socketPath: daemon.socketPath).run(["groups", "list"]).stdout.contains("billing"))
    }

    @Test("query: granted views answer; other views and the system views are denied")
    func query() throws {
        let (daemon, _) = try Self.start()
        let bob = try Self.cli(daemon, as: "lbacl-bob")
        let granted = try bob.run(["query", "public-totals"])
        #expect(granted.status == 0, "\(granted.stderr)")
        Self.expectDenied(try bob.run(["query", "private-totals"]), "read on view private-totals")
        Self.expectDenied(try bob.run(["query", "$streams"]), "read on every stream")
        Self.expectDenied(try bob.run(["query", "$stats"]), "admin on the server")
    }

    @Test("SIGHUP reloads the file; a file that does not parse keeps the rules in force and the log says why")
    func reload() throws {
        let (daemon, acl) = try Self.start()
        let dave = try Self.cli(daemon, as: "lbacl-dave")
        Self.expectDenied(try dave.run(["read", "orders-1"]), "read on stream orders-1")

        try (Self.rules + "\nuser:lbacl-dave read stream:orders-*\n").write(toFile: acl, atomically: true, encoding: .utf8)
        let pid = try #require(daemon.process?.processIdentifier)
        kill(pid, SIGHUP)
        #expect(eventuallyBlocking { daemon.log.contains("access rules reloaded") })
        #expect(try dave.run(["read", "orders-1"]).status == 0)

        try (Self.rules + "\nuser:lbacl-dave read,fly stream:orders-*\n").write(toFile: acl, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(eventuallyBlocking { daemon.log.contains("access rules not reloaded") })
        #expect(daemon.log.contains("line 8: 'fly' is not a permission"), "\(daemon.log)")
        // The previous rules stay: dave still reads.
        #expect(try dave.run(["read", "orders-1"]).status == 0)
        #expect(daemon.process?.isRunning == true)
    }

    @Test("no file of the store can be read by another user, around the rules", .enabled(if: !Daemon.onPostgres))
    func dataAtRestIsPrivate() throws {
        let (daemon, _) = try Self.start()
        daemon.stop()
        let files = try #require(FileManager.default.subpaths(atPath: daemon.dataPath))
        #expect(files.contains("logbook.sqlite"))
        for file in files {
            let status = try Self.runTool(
                "setpriv", ["--reuid=lbacl-alice", "--regid=lbacl-alice", "--init-groups", "--", "/usr/bin/head", "-c1", daemon.dataPath + "/" + file])
            #expect(status != 0, "lbacl-alice read \(file)")
        }
        // The test can read them as another user once the directory lets it: the refusals
        // above are the directory's and the files' modes, not a path that does not exist.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: daemon.dataPath)
        #expect(try Self.runTool(
            "setpriv", ["--reuid=lbacl-alice", "--regid=lbacl-alice", "--init-groups", "--", "/usr/bin/ls", daemon.dataPath]) == 0)
        #expect(try Self.runTool(
            "setpriv", ["--reuid=lbacl-alice", "--regid=lbacl-alice", "--init-groups", "--", "/usr/bin/head", "-c1", daemon.dataPath + "/logbook.sqlite"]) != 0)
    }

    @Test("connections per uid are capped; the refused one says why, and other users and root still connect")
    func connectionsPerUID() throws {
        _ = try Self.accounts.get()
        let daemon = try Daemon()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: daemon.directory.path)
        try daemon.start(["--connections-per-uid", "2", "--socket-mode", "666"])
        let alice = try Self.cli(daemon, as: "lbacl-alice")
        // A subscription holds alice's two connections: the CLI's own, and the one the
        // subscription keeps for itself.
        var holders: [Process] = []
        defer {
            for holder in holders where holder.isRunning {
                holder.terminate()
                holder.waitUntilExit()
            }
        }
        for _ in 0..<1 {
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: alice.launcher[0])
            holder.arguments = Array(alice.launcher.dropFirst()) + [alice.executable.path, "subscribe", "--all"]
            holder.environment = ["LOGBOOK_SOCKET": daemon.socketPath]
            holder.standardOutput = FileHandle.nullDevice
            holder.standardError = FileHandle.nullDevice
            try holder.run()
            holders.append(holder)
        }
        #expect(eventuallyBlocking { daemon.log.components(separatedBy: "] hello").count - 1 == 2 })
        let refused = try alice.run(["read", "--all"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("too many connections from uid"), "\(refused.stderr)")
        #expect(refused.stderr.contains("RESOURCE_EXHAUSTED"))
        #expect(refused.stderr.contains("limit 2"))
        #expect(daemon.log.contains("too many from one uid"))
        #expect(try Self.cli(daemon, as: "lbacl-bob").run(["read", "--all"]).status == 0)
        #expect(try CLI(socketPath: daemon.socketPath).run(["read", "--all"]).status == 0)

        holders[0].terminate()
        holders[0].waitUntilExit()
        #expect(eventuallyBlocking { (try? alice.run(["read", "--all"]).status) == 0 })
    }

    @Test("a file that does not load stops the start, with the line and the reason")
    func badFileAtStart() throws {
        _ = try Self.accounts.get()
        for (rules, says) in [
            ("user:lbacl-nobody-such read stream:x-*", "line 1: no user is named lbacl-nobody-such"),
            ("# comment\nuser:lbacl-alice consume stream:x-*", "line 2: consume applies to none of stream:x-*"),
            ("user:lbacl-alice read", "line 1: a grant is WHO PERMISSIONS WHAT"),
            ("user:lbacl-alice read stream:x*y", "`*` may only end a name"),
        ] {
            let daemon = try Daemon()
            let acl = daemon.directory.appendingPathComponent("acl").path
            try rules.write(toFile: acl, atomically: true, encoding: .utf8)
            #expect(throws: Daemon.DaemonError.self) { try daemon.start(["--acl", acl]) }
            #expect(daemon.log.contains(says), "\(daemon.log)")
        }
        let daemon = try Daemon()
        #expect(throws: Daemon.DaemonError.self) { try daemon.start(["--acl", daemon.directory.appendingPathComponent("missing").path]) }
        #expect(daemon.log.contains("cannot read the access file"), "\(daemon.log)")
    }
}
