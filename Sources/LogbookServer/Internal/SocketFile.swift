#if canImport(Glibc)
internal import Glibc
#endif

/// The socket path on disk: a stale file from a dead daemon is replaced, a live daemon's is
/// never taken over, and anything that is not a socket is left alone.
enum SocketFile {
    struct InUse: Error, CustomStringConvertible {
        var description: String
    }

    /// Makes `path` free to bind, or throws why it is not.
    static func prepare(_ path: String) throws(InUse) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }  // nothing there
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw InUse(description: "\(path) exists and is not a socket; refusing to replace it")
        }
        if self.someoneListens(at: path) {
            throw InUse(description: "another logbookd is already serving \(path); stop it first or pass a different --socket")
        }
        // A socket nobody listens on is left over from a daemon that died.
        guard unlink(path) == 0 || errno == ENOENT else {
            throw InUse(description: "cannot remove the stale socket \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func someoneListens(at path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }

    static func setMode(_ path: String, mode: UInt32) -> Bool {
        chmod(path, mode_t(mode)) == 0
    }

    /// Removes the socket file if it is still the one this process bound (same inode).
    static func remove(_ path: String, inode: UInt64?) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if let inode, UInt64(info.st_ino) != inode { return }
        unlink(path)
    }

    static func inode(_ path: String) -> UInt64? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }
}
