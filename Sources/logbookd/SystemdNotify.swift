internal import Logging

#if canImport(Glibc)
internal import Glibc
#endif

/// systemd's notify protocol (`Type=notify`, sd_notify(3)): a datagram of `KEY=VALUE`
/// lines to the Unix socket `$NOTIFY_SOCKET` names. `READY=1` once the daemon serves,
/// `STOPPING=1` when it starts to stop. Without `$NOTIFY_SOCKET` (not run by systemd) it
/// does nothing. libsystemd would add a C dependency for these few lines.
struct SystemdNotify: Sendable {
    /// The socket's address: a path, or `@name` for the abstract namespace.
    let address: String?
    let logger: Logger

    /// Reads `$NOTIFY_SOCKET`.
    init(logger: Logger) {
        self.address = getenv("NOTIFY_SOCKET").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        self.logger = logger
    }

    func serving(socket: String) {
        self.send("READY=1\nSTATUS=serving on \(socket)\nMAINPID=\(getpid())")
    }

    func stopping() {
        self.send("STOPPING=1\nSTATUS=stopping: finishing accepted appends")
    }

    /// A failure is logged, never fatal: the daemon serves whether systemd hears it or not.
    private func send(_ message: String) {
        guard let address = self.address else { return }
        var bytes = Array(address.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        guard bytes.count < capacity, address.hasPrefix("/") || address.hasPrefix("@") else {
            self.logger.warning("NOTIFY_SOCKET is not a Unix socket path; systemd is not told", metadata: ["notify_socket": "\(address)"])
            return
        }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { path in
            path.copyBytes(from: bytes)
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            self.logger.warning("cannot tell systemd", metadata: ["error": "socket: errno \(errno)"])
            return
        }
        defer { close(descriptor) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let sent = message.utf8CString.withUnsafeBufferPointer { text in
            withUnsafePointer(to: &socketAddress) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, text.baseAddress, text.count - 1, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        if sent < 0 {
            self.logger.warning("cannot tell systemd", metadata: ["notify_socket": "\(address)", "error": "sendto: errno \(errno)"])
        }
    }
}
