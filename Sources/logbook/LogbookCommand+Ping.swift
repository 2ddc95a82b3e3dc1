internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine

extension LogbookCommand {
    /// `logbook ping`: whether the daemon serves, for scripts and health checks.
    struct Ping: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that logbookd serves: print its version, its protocol and the round trip.",
            discussion: """
                Connects and completes the handshake, then prints what the daemon said: \
                "logbookd VERSION at SOCKET: protocol N, round trip T ms"; with --json one \
                object {"socket","server_version","protocol_version","round_trip_us"}. The \
                round trip runs from the start of a connect to the handshake's reply (on a \
                second connection: the first also starts the client).
                Exits 0 when the daemon serves, and 14 (UNAVAILABLE) when it cannot be \
                reached: no socket file, a stale one nobody listens on, or no answer to the \
                handshake. With --wait, keeps trying for up to that many seconds first: for \
                a script that has just started logbookd.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Keep trying for up to this many seconds while logbookd cannot be reached.", valueName: "seconds"))
        var wait: Double?

        /// The pause between attempts with `--wait`: a daemon that is starting listens
        /// within milliseconds of its start, and twenty connects a second cost it nothing.
        static let retryPause: Duration = .milliseconds(50)

        /// The longest `--wait`: a day, far past any start-up, and a bound on the clock
        /// arithmetic.
        static let waitSecondsMax: Double = 86_400

        func validate() throws {
            if let wait = self.wait, !(wait >= 0 && wait <= Self.waitSecondsMax) {
                throw ValidationError("--wait must be a number of seconds from 0 to \(Int(Self.waitSecondsMax))")
            }
        }

        func run() async throws {
            let socketPath = self.global.socketPath
            let deadline = ContinuousClock.now + .milliseconds((self.wait ?? 0) * 1000)
            let report = try await Terminal.run(reportingFor: socketPath) {
                while true {
                    do {
                        return try await Self.ping(socketPath)
                    } catch let error as LogbookError where error.code == .unavailable && ContinuousClock.now + Self.retryPause < deadline {
                        try await Task.sleep(for: Self.retryPause)
                    }
                }
            }
            self.global.print({ report.appendJSON(to: &$0) }, orLine: report.line)
        }

        /// Connects, reads what the handshake said, and closes.
        ///
        /// The first connection of a process also starts the client's event loop (a few
        /// milliseconds that have nothing to do with the daemon), so it is only a warm-up:
        /// the second one is timed.
        private static func ping(_ socketPath: String) async throws -> PingReport {
            try await LogbookClient.connect(socketPath: socketPath, clientName: "logbook-ping").close()
            let started = ContinuousClock.now
            let client = try await LogbookClient.connect(socketPath: socketPath, clientName: "logbook-ping")
            let roundTrip = ContinuousClock.now - started
            let report = PingReport(client.serverInfo, socketPath: socketPath, roundTrip: roundTrip)
            await client.close()
            return report
        }
    }
}
