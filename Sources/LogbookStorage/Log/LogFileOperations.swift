internal import SystemPackage

/// The file system calls the segment log makes, behind one seam.
///
/// `SystemFileOperations` is the real one; tests wrap it to fail a `write` or a
/// `dataSync` on demand and check that the log stops (fail-stop) instead of carrying on.
/// Every call is one system call; loops over short reads and writes live in the log.
protocol LogFileOperations: Sendable {
    /// `open(2)`; a created file gets mode 0644.
    func openFile(_ path: FilePath, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions)
        throws(Errno) -> FileDescriptor
    func close(_ descriptor: FileDescriptor) throws(Errno)
    /// `pread(2)`: the bytes read, 0 at the end of the file.
    func read(_ descriptor: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64)
        throws(Errno) -> Int
    /// `pwritev(2)` of the buffers in order: the bytes written, possibly fewer than asked.
    func write(_ descriptor: FileDescriptor, _ buffers: [UnsafeRawBufferPointer], at offset: Int64)
        throws(Errno) -> Int
    /// `fdatasync(2)`.
    func dataSync(_ descriptor: FileDescriptor) throws(Errno)
    /// `fsync(2)`: for a new file's size and for directories.
    func sync(_ descriptor: FileDescriptor) throws(Errno)
    /// Reserves the first `bytes` of the file on disk (`posix_fallocate`, which is
    /// `fallocate(2)` on Linux), so later writes there cannot run out of space.
    func allocate(_ descriptor: FileDescriptor, bytes: Int64) throws(Errno)
    func size(of descriptor: FileDescriptor) throws(Errno) -> Int64
    /// `rename(2)`: atomically replaces `target`.
    func rename(_ source: FilePath, to target: FilePath) throws(Errno)
    func remove(_ path: FilePath) throws(Errno)
    /// `mkdir(2)`; true when it created the directory, false when it was there already.
    func createDirectory(_ path: FilePath) throws(Errno) -> Bool
    /// The names in a directory, without `.` and `..`.
    func contentsOfDirectory(_ path: FilePath) throws(Errno) -> [String]
}

extension LogFileOperations {
    /// Opens a directory and fsyncs it, so the names created, renamed or removed in it
    /// are on disk.
    func syncDirectory(_ path: FilePath) throws(Errno) {
        let descriptor = try openFile(path, .readOnly, options: [.directory, .closeOnExec])
        defer { try? close(descriptor) }
        try sync(descriptor)
    }

    /// Writes all of `buffer` at `offset`, calling `write` again after a short write.
    func writeAll(_ descriptor: FileDescriptor, _ buffer: UnsafeRawBufferPointer, at offset: Int64) throws(Errno) {
        var done = 0
        while done < buffer.count {
            let written = try write(descriptor, [UnsafeRawBufferPointer(rebasing: buffer[done...])], at: offset + Int64(done))
            // A regular file that accepts no byte and reports no error is out of space.
            guard written > 0 else { throw Errno.noSpace }
            done += written
        }
    }

    /// Reads up to `buffer.count` bytes at `offset`, fewer only at the end of the file.
    func readFully(_ descriptor: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64)
        throws(Errno) -> Int
    {
        var done = 0
        while done < buffer.count {
            let count = try read(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + Int64(done))
            if count == 0 { break }
            done += count
        }
        return done
    }
}
