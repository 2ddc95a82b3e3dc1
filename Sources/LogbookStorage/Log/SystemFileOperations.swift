internal import SystemPackage
#if canImport(Glibc)
internal import Glibc
#endif

/// The real file system: swift-system's `FileDescriptor` where it has the call, a thin
/// wrapper over libc where it does not (swift-system 1.8 has no `pwritev`, `fdatasync`,
/// `fsync`, `posix_fallocate`, `rename`, `unlink`, `mkdir` or directory listing).
struct SystemFileOperations: LogFileOperations {
    func openFile(_ path: FilePath, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions)
        throws(Errno) -> FileDescriptor
    {
        let permissions: FilePermissions? = options.contains(.create) ? [.ownerReadWrite, .groupRead, .otherRead] : nil
        return try Self.translatingErrors { try FileDescriptor.open(path, mode, options: options, permissions: permissions) }
    }

    func close(_ descriptor: FileDescriptor) throws(Errno) {
        try Self.translatingErrors { try descriptor.close() }
    }

    func read(_ descriptor: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64)
        throws(Errno) -> Int
    {
        try Self.translatingErrors { try descriptor.read(fromAbsoluteOffset: offset, into: buffer) }
    }

    func write(_ descriptor: FileDescriptor, _ buffers: [UnsafeRawBufferPointer], at offset: Int64)
        throws(Errno) -> Int
    {
        let count = min(buffers.count, LogLimits.iovecsPerWriteMax)
        return try withUnsafeTemporaryAllocation(of: iovec.self, capacity: count) { (vectors) throws(Errno) -> Int in
            for index in 0..<count {
                vectors[index] = iovec(
                    iov_base: UnsafeMutableRawPointer(mutating: buffers[index].baseAddress), iov_len: buffers[index].count)
            }
            while true {
                let written = pwritev(descriptor.rawValue, vectors.baseAddress, Int32(count), off_t(offset))
                if written >= 0 { return written }
                guard errno == EINTR else { throw Errno(rawValue: errno) }
            }
        }
    }

    func dataSync(_ descriptor: FileDescriptor) throws(Errno) {
        // Never retried, not even after EINTR: after a failed sync the kernel may have
        // dropped the dirty pages, and a second call could report success for them.
        guard fdatasync(descriptor.rawValue) == 0 else { throw Errno(rawValue: errno) }
    }

    func sync(_ descriptor: FileDescriptor) throws(Errno) {
        guard fsync(descriptor.rawValue) == 0 else { throw Errno(rawValue: errno) }
    }

    func allocate(_ descriptor: FileDescriptor, bytes: Int64) throws(Errno) {
        // posix_fallocate returns the error instead of setting errno.
        let result = posix_fallocate(descriptor.rawValue, 0, off_t(bytes))
        guard result == 0 else { throw Errno(rawValue: result) }
    }

    func size(of descriptor: FileDescriptor) throws(Errno) -> Int64 {
        var status = stat()
        guard fstat(descriptor.rawValue, &status) == 0 else { throw Errno(rawValue: errno) }
        return Int64(status.st_size)
    }

    func rename(_ source: FilePath, to target: FilePath) throws(Errno) {
        let result = source.withCString { source in target.withCString { target in Glibc.rename(source, target) } }
        guard result == 0 else { throw Errno(rawValue: errno) }
    }

    func remove(_ path: FilePath) throws(Errno) {
        guard path.withCString({ unlink($0) }) == 0 else { throw Errno(rawValue: errno) }
    }

    func createDirectory(_ path: FilePath) throws(Errno) -> Bool {
        if path.withCString({ mkdir($0, 0o755) }) == 0 { return true }
        guard errno == EEXIST else { throw Errno(rawValue: errno) }
        return false
    }

    func contentsOfDirectory(_ path: FilePath) throws(Errno) -> [String] {
        guard let directory = path.withCString({ opendir($0) }) else { throw Errno(rawValue: errno) }
        defer { closedir(directory) }
        var names = [String]()
        errno = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        guard errno == 0 else { throw Errno(rawValue: errno) }
        return names
    }

    /// swift-system's calls throw `Errno` untyped.
    private static func translatingErrors<Result>(_ body: () throws -> Result) throws(Errno) -> Result {
        do {
            return try body()
        } catch let error as Errno {
            throw error
        } catch {
            throw Errno.ioError
        }
    }
}
