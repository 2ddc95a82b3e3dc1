internal import ArgumentParser
internal import Logbook

/// The options every command takes: where the daemon is, and how to print.
struct GlobalOptions: ParsableArguments {
    /// The socket when neither `--socket` nor `$LOGBOOK_SOCKET` says.
    static let defaultSocketPath = "./logbook.sock"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "logbookd's Unix socket (default: $LOGBOOK_SOCKET, else \(GlobalOptions.defaultSocketPath)).",
            valueName: "path"
        ),
        completion: .file()
    )
    var socket: String?

    @Flag(name: .long, help: "Print JSON, one object per line.")
    var json = false

    /// `--socket`, else `$LOGBOOK_SOCKET`, else `./logbook.sock`.
    var socketPath: String {
        if let socket = self.socket {
            return socket
        }
        return System.environment("LOGBOOK_SOCKET") ?? Self.defaultSocketPath
    }
}

extension GlobalOptions {
    /// Connects, runs `body`, and closes; any failure is reported and becomes the exit
    /// status DESIGN §9 asks for.
    func withClient<Result>(_ body: (LogbookClient) async throws -> Result) async throws -> Result {
        let socketPath = self.socketPath
        let client = try await Terminal.run(reportingFor: socketPath) {
            try await LogbookClient.connect(socketPath: socketPath, clientName: "logbook-cli")
        }
        return try await Terminal.run(reportingFor: socketPath) {
            try await body(client)
        } cleanUp: {
            await client.close()
        }
    }

    /// ``withClient(_:)`` for a command that runs until it is interrupted: SIGINT or SIGTERM
    /// cancels `body`, which is a normal end (exit 0).
    func withClientUntilInterrupted(_ body: @escaping @Sendable (LogbookClient) async throws -> Void) async throws {
        try await Terminal.runUntilInterrupted {
            try await self.withClient { client in
                do {
                    try await body(client)
                } catch is CancellationError {
                    // Interrupted: a normal end.
                }
            }
        }
    }
}
