#if canImport(Glibc)
internal import Glibc
#endif

/// An exclusive `flock` on `LOCK` in the data directory, held while the store is open.
///
/// The kernel drops it when the process dies, so a `kill -9` never leaves a stale lock.
final class DirectoryLock: Sendable {
    static let fileName = "LOCK"

    private let descriptor: Int32

    init(directory: String) throws(StorageError) {
        let path = directory + "/" + Self.fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StorageError(code: .invalidArgument, message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw StorageError(
                code: .inUse,
                message: "another process (a running logbookd?) is using the data directory \(directory)"
            )
        }
        self.descriptor = descriptor
    }

    /// Lets another store open the directory; the descriptor itself closes on deinit.
    func release() {
        flock(self.descriptor, LOCK_UN)
    }

    deinit {
        close(self.descriptor)
    }
}
