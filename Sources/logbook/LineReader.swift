#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The lines of a file, or of standard input, read 64 KiB at a time: a file to import may
/// be far larger than what should sit in memory at once.
struct LineReader: ~Copyable {
    private static let chunkBytes = 64 << 10

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    /// Bytes read so far, for a progress bar.
    private(set) var bytesRead: UInt64 = 0
    /// The file's size; nil for standard input or what is not a regular file.
    let size: UInt64?

    /// `path` nil or `-`: standard input.
    init(path: String?) throws(SystemError) {
        if let path, path != "-" {
            self.descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard self.descriptor >= 0 else { throw SystemError() }
            self.ownsDescriptor = true
        } else {
            (self.descriptor, self.ownsDescriptor) = (0, false)
        }
        var status = stat()
        self.size = fstat(self.descriptor, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG ? UInt64(status.st_size) : nil
    }

    deinit {
        if self.ownsDescriptor { close(self.descriptor) }
    }

    /// The next line without its newline; nil at the end.
    mutating func next() throws(SystemError) -> [UInt8]? {
        while true {
            if let newline = self.buffer[self.start...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { self.start = newline + 1 }
                return Array(self.buffer[self.start..<newline])
            }
            if self.atEnd {
                guard self.start < self.buffer.count else { return nil }
                defer { self.start = self.buffer.count }
                return Array(self.buffer[self.start...])
            }
            try self.fill()
        }
    }

    private mutating func fill() throws(SystemError) {
        self.buffer.removeFirst(self.start)
        self.start = 0
        let old = self.buffer.count
        self.buffer.append(contentsOf: repeatElement(0, count: Self.chunkBytes))
        var count = 0
        repeat {
            count = self.buffer.withUnsafeMutableBytes { read(self.descriptor, $0.baseAddress! + old, Self.chunkBytes) }
        } while count < 0 && errno == EINTR
        guard count >= 0 else { throw SystemError() }
        self.buffer.removeLast(Self.chunkBytes - count)
        self.bytesRead += UInt64(count)
        self.atEnd = count == 0
    }
}
