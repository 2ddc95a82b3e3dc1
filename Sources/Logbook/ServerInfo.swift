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

    public init(
        serverVersion: String,
        protocolVersion: UInt32,
        limits: ServerLimits,
        peerUID: UInt32,
        peerGID: UInt32,
        peerPID: UInt32
    ) {
        self.serverVersion = serverVersion
        self.protocolVersion = protocolVersion
        self.limits = limits
        self.peerUID = peerUID
        self.peerGID = peerGID
        self.peerPID = peerPID
    }
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

    public init(
        frameBytesMax: Int,
        eventsPerAppendMax: Int,
        eventBytesMax: Int,
        openCallsPerConnectionMax: Int,
        readBatchEventsMax: Int,
        streamNameBytesMax: Int
    ) {
        self.frameBytesMax = frameBytesMax
        self.eventsPerAppendMax = eventsPerAppendMax
        self.eventBytesMax = eventBytesMax
        self.openCallsPerConnectionMax = openCallsPerConnectionMax
        self.readBatchEventsMax = readBatchEventsMax
        self.streamNameBytesMax = streamNameBytesMax
    }
}
