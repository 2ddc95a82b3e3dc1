internal import SystemPackage

/// One open segment file: its path, header and descriptor.
///
/// Shared by the writer and every reader (`pread` needs no lock); the descriptor closes
/// when the last of them lets go, so a reader in the middle of a segment never sees it
/// closed under it.
final class SegmentFile: Sendable {
    let path: FilePath
    let header: SegmentHeader
    let files: any LogFileOperations
    /// `FileDescriptor` is not `Sendable` (swift-system leaves that open); the raw value is.
    private let rawDescriptor: CInt

    init(path: FilePath, descriptor: FileDescriptor, header: SegmentHeader, files: any LogFileOperations) {
        self.path = path
        self.rawDescriptor = descriptor.rawValue
        self.header = header
        self.files = files
    }

    deinit {
        try? files.close(descriptor)
    }

    var descriptor: FileDescriptor { FileDescriptor(rawValue: rawDescriptor) }
    var firstPosition: UInt64 { header.firstPosition }

    /// `<first position, 20 decimal digits>.<suffix>`: sorts by name as by position, like
    /// Kafka's segment files.
    static func name(firstPosition: UInt64, suffix: String) -> String {
        let digits = String(firstPosition)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "." + suffix
    }

    /// The first position a file name says, when it is a name `name(firstPosition:suffix:)` gives.
    static func firstPosition(fromName name: String, suffix: String) -> UInt64? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1] == suffix, parts[0].count == 20, parts[0].allSatisfy(\.isASCII) else { return nil }
        return UInt64(parts[0])
    }

    /// Reads up to `buffer.count` bytes at `offset` (fewer only at the end of the file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StorageError) -> Int {
        do {
            return try files.readFully(descriptor, into: buffer, at: offset)
        } catch {
            throw StorageError(
                code: error == .ioError ? .corrupt : .internalError,
                message: "cannot read log segment \(path) at byte offset \(offset): \(error)",
                cause: error)
        }
    }

    /// The error for a damaged record or header, naming the file and the offset.
    func damaged(at offset: Int64, _ reason: String) -> StorageError {
        .corrupt("log segment \(path) is damaged at byte offset \(offset): \(reason)")
    }
}
