internal import Foundation
internal import LogbookWire
internal import NIOCore

#if canImport(Glibc)
internal import Glibc
#endif

/// A blocking Unix-socket client that speaks raw frames, for the paths a well-behaved client
/// library never takes: bad frames, no Hello, silence, pipelined floods.
final class RawClient: @unchecked Sendable {  // send and receive are used from one thread each
    let fd: Int32
    private let receiveTimeoutSeconds: Int
    private var buffer = ByteBuffer()
    private let decoder = FrameDecoder(frameBytesMax: 64 << 20)

    struct Closed: Error {}
    struct Timeout: Error {}

    init(path: String, receiveTimeoutSeconds: Int = 30) throws {
        self.fd = try Self.connect(path)
        self.receiveTimeoutSeconds = receiveTimeoutSeconds
        self.setReceiveTimeout(receiveTimeoutSeconds)
    }

    private func setReceiveTimeout(_ seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(self.fd)
    }

    /// Ends the connection as a crashed peer would, keeping the descriptor until deinit.
    func disconnect() {
        Glibc.shutdown(self.fd, Int32(SHUT_RDWR))
    }

    static func canConnect(_ path: String) -> Bool {
        guard let fd = try? Self.connect(path) else { return false }
        close(fd)
        return true
    }

    private static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Closed() }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw Closed()
        }
        return fd
    }

    func send(bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw Closed() }
            offset += written
        }
    }

    func send(_ frame: Frame) throws {
        var out = ByteBuffer()
        try frame.encode(into: &out)
        try self.send(bytes: Array(out.readableBytesView))
    }

    func send(_ frames: [Frame]) throws {
        var out = ByteBuffer()
        for frame in frames { try frame.encode(into: &out) }
        try self.send(bytes: Array(out.readableBytesView))
    }

    /// The next frame, or nil when the server closed the connection.
    func receive() throws -> Frame? {
        while true {
            if let frame = try self.decoder.decodeFrame(from: &self.buffer) { return frame }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return nil }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { throw Timeout() }
                return nil  // reset by peer counts as closed
            }
            self.buffer.writeBytes(chunk[0..<count])
        }
    }

    /// The next frame if one comes within `seconds`, else nil (for a test that checks that
    /// nothing comes).
    func receive(within seconds: Int) throws -> Frame? {
        self.setReceiveTimeout(seconds)
        defer { self.setReceiveTimeout(self.receiveTimeoutSeconds) }
        do {
            return try self.receive()
        } catch is Timeout {
            return nil
        }
    }

    func hello() throws -> HelloReply {
        try self.send(Frame(callID: 0, body: .hello(Hello(protocolVersion: 1, clientName: "e2e-raw"))))
        guard case .helloReply(let reply) = try self.receive()?.body else { throw Closed() }
        return reply
    }

    /// Sends one request and collects its frames up to and including the Status.
    func call(_ callID: UInt64, _ body: Frame.Body) throws -> (frames: [Frame], status: Status) {
        try self.send(Frame(callID: callID, body: body))
        var frames: [Frame] = []
        while let frame = try self.receive() {
            guard frame.callID == callID else { continue }
            if case .status(let status) = frame.body { return (frames, status) }
            frames.append(frame)
        }
        throw Closed()
    }
}

extension AppendRequest {
    static func single(_ stream: String, type: String = "Tested", data: String = "{}", expected: ExpectedRevision? = nil) -> AppendRequest {
        AppendRequest(streams: [
            StreamAppend(
                stream: stream,
                expected: expected,
                events: [ProposedEvent(type: type, data: Array(data.utf8), contentType: "application/json")]
            )
        ])
    }
}
