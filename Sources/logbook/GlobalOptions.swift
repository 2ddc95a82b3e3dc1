import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
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
