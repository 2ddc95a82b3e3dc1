internal import ArgumentParser
internal import Logbook

/// How the tool ends: reporting an error on standard error with the exit status DESIGN §9
/// asks for, or being interrupted.
enum Terminal {
    /// Prints a line to standard error.
    static func printError(_ message: String) {
        System.writeAll(Array((message + "\n").utf8), to: 2)
    }

    /// Reports an error the way DESIGN §9 asks and returns the exit status to end with:
    /// the status code when the server refused, 14 (UNAVAILABLE) when the daemon could not
    /// be reached or the connection to it broke, 1 for any other local error.
    static func exitCode(reporting error: any Error, socketPath: String) -> ExitCode {
        switch error {
        case let error as LogbookError where error.isFromServer:
            self.printError("error: \(error.code): \(self.refusalMessage(error))")
            return ExitCode(Int32(error.code.rawValue))
        case let error as LogbookError:
            guard error.code == .unavailable else {
                self.printError("error: \(error.message)")
                return ExitCode(1)
            }
            if error.message.contains(socketPath) {
                self.printError("error: \(error.message)")
            } else {
                self.printError("error: logbookd at \(socketPath): \(error.message)")
            }
            return .unavailable
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

extension ExitCode {
    /// A usage error (EX_USAGE), as swift-argument-parser uses for its own.
    static let usage = ExitCode(64)

    /// The daemon could not be reached, or the connection to it broke: UNAVAILABLE's
    /// number, as a refusal's exit status is its code. A script tells it from a local
    /// error (1) and may try again once the daemon is back.
    static let unavailable = ExitCode(Int32(LogbookError.Code.unavailable.rawValue))
}

/// Fails with a usage error: prints `error: message` and exits 64.
func usageError(_ message: String) -> ExitCode {
    Terminal.printError("error: \(message)")
    return .usage
}

extension Terminal {
    /// Runs `body`, then `cleanUp` whatever happened; a failure is reported and becomes the
    /// exit status DESIGN §9 asks for.
    static func run<Result>(
        reportingFor socketPath: String,
        _ body: () async throws -> Result,
        cleanUp: () async -> Void = {}
    ) async throws -> Result {
        do {
            let result = try await body()
            await cleanUp()
            return result
        } catch {
            await cleanUp()
            throw Terminal.exitCode(reporting: error, socketPath: socketPath)
        }
    }

    /// Runs `body` as one task until it ends, or until SIGINT or SIGTERM cancels it: then
    /// it ends cleanly (Cancel on the wire, output flushed, exit 0) at any point, even
    /// while connecting.
    static func runUntilInterrupted(_ body: @escaping @Sendable () async throws -> Void) async throws {
        let task = Task { try await body() }
        try await System.handlingTerminationSignals({ task.cancel() }) {
            try await task.value
        }
    }
}
