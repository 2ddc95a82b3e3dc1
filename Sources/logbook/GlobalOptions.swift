internal import ArgumentParser
internal import Logbook

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The options every command takes: where the daemon is, and how to print.
struct GlobalOptions: ParsableArguments {
    /// The socket when neither `--socket` nor `$LOGBOOK_SOCKET` says.
    static let defaultSocketPath = "./logbook.sock"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "logbookd's Unix socket (default: $LOGBOOK_SOCKET, else \(GlobalOptions.defaultSocketPath)).",
            valueName: "path"
        )
    )
    var socket: String?

    @Flag(name: .long, help: "Print JSON, one object per line.")
    var json = false

    /// `--socket`, else `$LOGBOOK_SOCKET`, else `./logbook.sock`.
    var socketPath: String {
        if let socket = self.socket {
            return socket
        }
        if let value = getenv("LOGBOOK_SOCKET"), case let path = String(cString: value), !path.isEmpty {
            return path
        }
        return Self.defaultSocketPath
    }
}

extension GlobalOptions {
    /// Connects, runs `body`, and closes; any failure is reported and becomes the exit
    /// status DESIGN §9 asks for.
    func withClient<Result>(_ body: (LogbookClient) async throws -> Result) async throws -> Result {
        let socketPath = self.socketPath
        let client: LogbookClient
        do {
            client = try await LogbookClient.connect(socketPath: socketPath, clientName: "logbook-cli")
        } catch {
            throw Terminal.exitCode(reporting: error, socketPath: socketPath)
        }
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw Terminal.exitCode(reporting: error, socketPath: socketPath)
        }
    }
}
