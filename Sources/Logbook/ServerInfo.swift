/// What the server said about itself and about this connection in the handshake.
public struct ServerInfo: Sendable, Hashable {
    /// The daemon's version string.
    public var serverVersion: String
    /// The protocol version the server speaks.
    public var protocolVersion: UInt32
    /// What the server accepts.
    public var limits: ServerLimits
    /// This process's user id as the server read it from the socket.
    public var peerUID: UInt32
    /// This process's group id as the server read it from the socket.
    public var peerGID: UInt32
    /// This process's id as the server read it from the socket.
    public var peerPID: UInt32
}

/// The server's limits; a request past any of them is refused.
public struct ServerLimits: Sendable, Hashable {
    /// The largest frame (one encoded request) the server accepts, in bytes.
    public var frameBytesMax: Int
    /// The most events one append may carry.
    public var eventsPerAppendMax: Int
    /// The largest event the server accepts, in bytes.
    public var eventBytesMax: Int
    /// The most calls one connection may have open at once.
    public var openCallsPerConnectionMax: Int
    /// The most events the server puts in one batch of a read.
    public var readBatchEventsMax: Int
    /// The longest stream name, in UTF-8 bytes.
    public var streamNameBytesMax: Int
}
