package import NIOCore

#if canImport(Glibc)
internal import Glibc
#endif

/// Who is on the other end of a connection, as the kernel says (SO_PEERCRED).
package struct PeerCredentials: Sendable, Hashable, CustomStringConvertible {
    package var pid: Int32
    package var uid: UInt32
    package var gid: UInt32

    package var description: String { "pid \(self.pid) uid \(self.uid) gid \(self.gid)" }

    /// The layout of Linux's `struct ucred`, which Glibc only declares under _GNU_SOURCE.
    private struct UCred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// Reads the credentials of the channel's peer; unknown (all -1) where unsupported.
    package static func read(from channel: any Channel) -> EventLoopFuture<PeerCredentials> {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(.unknown)
        }
        let future: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET),
            name: SocketOptionName(SO_PEERCRED)
        )
        return future.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }
            .recover { _ in .unknown }
        #else
        return channel.eventLoop.makeSucceededFuture(.unknown)
        #endif
    }

    package static let unknown = PeerCredentials(pid: -1, uid: UInt32.max, gid: UInt32.max)
}
