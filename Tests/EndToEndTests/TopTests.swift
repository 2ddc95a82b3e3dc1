internal import Foundation
internal import Testing

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

    /// Runs tmux; its output is read only for capture-pane. The first command starts
    /// tmux's server, which would keep a pipe open for ever.
    @discardableResult
    private func tmux(_ arguments: [String], output: Bool = false) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tmux")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = output ? pipe : FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let read = output ? pipe.fileHandleForReading.readDataToEndOfFile() : Data()
        process.waitUntilExit()
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
