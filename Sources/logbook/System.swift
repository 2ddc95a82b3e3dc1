internal import Dispatch

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The command-line tool's system calls, in one place: file descriptors, the environment,
/// signals and the monotonic clock.
enum System {
    /// Bytes one `read` asks for while reading a whole file.
    private static let readChunkBytes = 64 << 10

    /// Writes every byte to a file descriptor, retrying short writes; gives up silently on
    /// an error (a closed pipe: nobody reads any more).
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

    /// Everything the file at `path` holds, or standard input's for nil, until its end; or
    /// why it cannot be read.
    static func readAll(_ path: String?) -> Result<[UInt8], SystemError> {
        let descriptor = path.map { open($0, O_RDONLY) } ?? 0
        guard descriptor >= 0 else { return .failure(SystemError()) }
        defer { if path != nil { close(descriptor) } }
        var input: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: Self.readChunkBytes)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count < 0 { return .failure(SystemError()) }
            if count == 0 { return .success(input) }
            input.append(contentsOf: chunk[0..<count])
        }
    }

    /// Whether standard input is a terminal: someone types what the tool reads.
    static var standardInputIsTerminal: Bool {
        isatty(0) != 0
    }

    /// An environment variable; nil when it is unset or empty.
    static func environment(_ name: String) -> String? {
        guard let value = getenv(name), case let text = String(cString: value), !text.isEmpty else { return nil }
        return text
    }

    /// Runs `body`, calling `handler` on SIGINT or SIGTERM meanwhile instead of dying of it;
    /// the process exits with 0 two seconds after such a signal whatever `handler` did.
    static func handlingTerminationSignals<Result>(
        _ handler: @escaping @Sendable () -> Void,
        _ body: () async throws -> Result
    ) async throws -> Result {
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                handler()
                // A reader that stopped reading leaves a write to stdout blocked for ever;
                // the signal still ends the process.
                DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(2)) { _exit(0) }
            }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        return try await body()
    }

    /// CLOCK_MONOTONIC in nanoseconds: the same clock in every process on the host.
    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// The wall clock in microseconds since the Unix epoch: what the daemon stamps a
    /// commit with, on the same host.
    static func wallMicroseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}

/// Why a system call failed, in the words of `strerror`.
struct SystemError: Error, CustomStringConvertible {
    let description: String

    /// The error of the last system call that failed on this thread.
    init() {
        self.description = String(cString: strerror(errno))
    }
}
