internal import Foundation
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// `logbook top` (issue 15) in a real terminal: a tmux pane, driven with send-keys and read
/// with capture-pane, against a daemon taking appends.
@Suite("logbook top", .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "needs tmux"))
final class TopTests {
    let daemon: Daemon
    let cli: CLI
    let session = "logbook-top-\(UUID().uuidString.prefix(8))"

    init() throws {
        self.daemon = try Daemon()
        try self.daemon.start()
        self.cli = CLI(socketPath: self.daemon.socketPath)
        for arguments in [["groups", "create", "orders", "--category", "order"], ["views", "define", "summaries", "--group", "orders"]] {
            #expect(try self.cli.run(arguments).status == 0)
        }
        try self.tmux(["new-session", "-d", "-s", self.session, "-x", "110", "-y", "30", "bash --norc --noprofile"])
    }

    /// Each test ends its session itself: the last instance of a suite is not always
    /// deinitialised before the test process exits.
    private func closeSession() {
        _ = try? self.tmux(["kill-session", "-t", self.session])
    }

    /// Runs tmux with posix_spawn and waits for it with waitpid; its output is read only for
    /// capture-pane. The first command starts tmux's server, which would keep a pipe open
    /// for ever. Not Foundation's `Process`: under AddressSanitizer its child monitor once
    /// left a tmux client unreaped and the test waiting for ever.
    @discardableResult
    private func tmux(_ arguments: [String], output: Bool = false) throws -> String {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw POSIXError(.EIO) }
        let null = open("/dev/null", O_RDWR)
        defer { close(null) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, null, 0)
        posix_spawn_file_actions_adddup2(&actions, output ? ends[1] : null, 1)
        posix_spawn_file_actions_adddup2(&actions, null, 2)
        posix_spawn_file_actions_addclose(&actions, ends[0])
        let argv = (["/usr/bin/tmux"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/tmux", &actions, nil, argv, environ)
        close(ends[1])
        defer { close(ends[0]) }
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var read: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while output {
            let count = Glibc.read(ends[0], &chunk, chunk.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            read += chunk[..<count]
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return String(decoding: read, as: UTF8.self)
    }

    private func screen() throws -> String {
        try self.tmux(["capture-pane", "-p", "-t", self.session], output: true)
    }

    /// Waits until the pane shows what `condition` wants; the last screen either way.
    private func waitForScreen(_ condition: (String) -> Bool) async throws -> String {
        var shown = try self.screen()
        let deadline = ContinuousClock.now + .seconds(20)
        while !condition(shown), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            shown = try self.screen()
        }
        return shown
    }

    private func append(_ count: Int) throws {
        let lines = (1...count).map { #"{"n":\#($0)}"# + "\n" }.joined()
        #expect(try self.cli.run(["append", "order-1", "--type", "Placed"], stdin: lines).status == 0)
    }

    private func startTop() async throws -> String {
        let command = "\(Daemon.binDirectory.appendingPathComponent("logbook").path) --socket \(self.daemon.socketPath) top"
        try self.tmux(["send-keys", "-t", self.session, command, "Enter"])
        return try await self.waitForScreen { $0.contains("GROUP") }
    }

    @Test func itRedrawsInPlaceAsAppendsArriveAndQuitsOnQ() async throws {
        defer { self.closeSession() }
        try self.append(5)
        let first = try await self.startTop()
        #expect(first.contains("head position 5"), "\(first)")
        #expect(first.contains("writer ok"))
        #expect(first.split(separator: "\n").contains { $0.hasPrefix("orders") && $0.contains("[") }, "a bar per group: \(first)")
        #expect(first.contains("summaries"))

        try self.append(20)
        let later = try await self.waitForScreen { $0.contains("head position 25") }
        #expect(later.contains("head position 25"), "\(later)")
        // In place: one screen, the old numbers overwritten, not scrolled below.
        #expect(later.components(separatedBy: "logbook top:").count == 2, "\(later)")
        #expect(!later.contains("head position 5 "), "\(later)")

        try self.tmux(["send-keys", "-t", self.session, "q"])
        let after = try await self.waitForScreen { !$0.contains("logbook top:") }
        #expect(!after.contains("logbook top:"), "the terminal is given back: \(after)")
    }

    @Test func ctrlCQuitsAndGivesTheTerminalBack() async throws {
        defer { self.closeSession() }
        _ = try await self.startTop()
        try self.tmux(["send-keys", "-t", self.session, "C-c"])
        let after = try await self.waitForScreen { !$0.contains("logbook top:") }
        #expect(!after.contains("logbook top:"), "\(after)")
        // Echo is back on: what is typed shows.
        try self.tmux(["send-keys", "-t", self.session, "echo typed-after-top", "Enter"])
        let echoed = try await self.waitForScreen { $0.contains("typed-after-top\n") || $0.components(separatedBy: "typed-after-top").count > 2 }
        #expect(echoed.components(separatedBy: "typed-after-top").count > 2, "\(echoed)")
    }

    @Test func onceOrAPipeGetsOneScreen() throws {
        defer { self.closeSession() }
        try self.append(3)
        let once = try self.cli.run(["top", "--once"])
        #expect(once.status == 0, "\(once.stderr)")
        #expect(once.stdout.contains("head position 3"))
        #expect(once.stdout.contains("appends/s"))
        #expect(!once.stdout.contains("\u{1B}["), "no terminal codes in a pipe")
    }
}
