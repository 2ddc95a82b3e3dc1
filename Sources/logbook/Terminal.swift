import ArgumentParser
import Logbook

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Standard output with a buffer: the read path prints many lines, and one `write` per
/// 64 KiB instead of one per line keeps it cheap.
struct StandardOutput {
    private var buffer: [UInt8] = []
    private static let flushBytes = 64 << 10

    init() {
        self.buffer.reserveCapacity(Self.flushBytes + 4096)
    }

    /// Appends bytes; the caller ends each line with `endLine()`.
    mutating func write(_ body: (inout [UInt8]) -> Void) {
        body(&self.buffer)
    }

    mutating func write(_ text: String) {
        self.buffer.append(contentsOf: text.utf8)
    }

    mutating func endLine() {
        self.buffer.append(UInt8(ascii: "\n"))
        if self.buffer.count >= Self.flushBytes {
            self.flush()
        }
    }

    mutating func line(_ text: String) {
        self.write(text)
        self.endLine()
    }

    mutating func flush() {
        Terminal.writeAll(self.buffer, to: 1)
        self.buffer.removeAll(keepingCapacity: true)
    }
}

enum Terminal {
    /// Writes every byte to a file descriptor, retrying short writes.
    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    /// Prints a line to standard error.
    static func printError(_ message: String) {
        self.writeAll(Array((message + "\n").utf8), to: 2)
    }

    /// Reports an error the way DESIGN §9 asks and returns the exit status to end with:
    /// the status code when the server refused, 1 for everything else (the daemon could
    /// not be reached, a local error).
    static func exitCode(reporting error: any Error, socketPath: String) -> ExitCode {
        switch error {
        case let error as LogbookError where error.isFromServer:
            self.printError("error: \(error.code): \(self.refusalMessage(error))")
            return ExitCode(Int32(error.code.rawValue))
        case let error as LogbookError:
            if error.code == .unavailable, !error.message.contains(socketPath) {
                self.printError("error: logbookd at \(socketPath): \(error.message)")
            } else {
                self.printError("error: \(error.message)")
            }
            return ExitCode(1)
        case let error as ExitCode:
            return error
        case is CancellationError:
            self.printError("error: cancelled")
            return ExitCode(1)
        default:
            self.printError("error: \(error)")
            return ExitCode(1)
        }
    }

    /// A refusal's message, spelled out from its details where they say more.
    static func refusalMessage(_ error: LogbookError) -> String {
        if let wrong = error.details?.wrongExpectedRevision {
            let expected: String
            switch wrong.expected {
            case .noStream: expected = "no stream"
            case .streamExists: expected = "an existing stream"
            case .any: expected = "any"
            default: expected = wrong.expected.description
            }
            let actual = wrong.actual.map { String($0) } ?? "no stream"
            return "wrong expected revision for stream \(wrong.stream): expected \(expected), actual \(actual)"
        }
        return error.message
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

extension ExitCode {
    /// A usage error (EX_USAGE), as swift-argument-parser uses for its own.
    static let usage = ExitCode(64)
    /// The server or this tool does not implement the command yet (UNIMPLEMENTED).
    static let unimplemented = ExitCode(12)
}

/// Fails with a usage error: prints `error: message` and exits 64.
func usageError(_ message: String) -> ExitCode {
    Terminal.printError("error: \(message)")
    return .usage
}
