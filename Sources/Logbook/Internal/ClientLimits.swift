/// Every number the client library runs by, in one place, each with the reason for its
/// value (the server's are in `LogbookServer/Limits.swift`).
///
/// What the server enforces, it announces in `HelloReply`, and the client checks a request
/// against that before sending it (``RequestCheck``); these are the client's own bounds:
/// how long it waits, how much it buffers, how it reconnects.
package enum ClientLimits {
    // MARK: Connecting

    /// How long connecting to the socket may take. A local daemon accepts at once; a
    /// daemon that does not is stuck, and the caller hears so instead of hanging.
    package static let connectTimeout: Duration = .seconds(10)
    /// How long the server has to answer Hello, for the same reason.
    package static let handshakeTimeout: Duration = .seconds(10)
    /// How long a call with no timeout waits for the daemon while the shared connection is
    /// down (``LogbookClient/Configuration/reconnectWait``): a restart takes well under a
    /// second, a reboot a few, and a caller should not hang much longer than that.
    package static let reconnectWaitDefault: Duration = .seconds(30)

    // MARK: Frames

    /// The largest frame the client accepts from the server. The server's frames are bounded
    /// by its own `frame_bytes_max` (16 MiB by default); this guards against a peer that is
    /// not logbookd, and so is generous.
    package static let inboundFrameBytesMax = 64 << 20
    /// The largest frame the client sends when the server announced no limit: what the
    /// frame header's 32-bit length can say.
    package static let outboundFrameBytesMax = Int(UInt32.max)
    /// Bytes of view writes one Ack frame carries before the next ack goes in a frame of its
    /// own: a burst of acks with large documents must not add up past the server's frame
    /// limit (16 MiB by default), and 1 MiB still carries hundreds of typical writes.
    package static let ackFrameWriteBytesMax = 1 << 20

    // MARK: Buffers between the event loop and a consumer task

    /// Batches a read may hold before the router stops reading from the socket, which
    /// pauses every call on the connection. Credit (``ReadCredit``) keeps a read well
    /// below this; it is the backstop for a read's first batches, sent before their size
    /// is known, and for a server that ignores credit. A batch is at most the server's
    /// `read_batch_bytes_max` (1 MiB) unless one event is larger.
    package static let readBatchesBufferedHigh = 16
    /// Batches left when reading resumes.
    package static let readBatchesBufferedLow = 4
    /// Frames a catch-up subscription buffers before the router stops reading its
    /// connection. Credit bounds its events; this only keeps markers from piling up.
    package static let subscriptionFramesBufferedHigh = 64
    /// Frames left when reading resumes.
    package static let subscriptionFramesBufferedLow = 16
    /// Watermarks of a group consumer's buffer. `max_in_flight` bounds what the daemon
    /// sends, so these never pause reading (see ``GroupStream``).
    package static let groupBatchesBufferedHigh = 64
    /// See ``groupBatchesBufferedHigh``.
    package static let groupBatchesBufferedLow = 16

    // MARK: Reads

    /// The credit a read opens with: the server's `read_batch_events_max`, so the common
    /// read (an aggregate's stream, a page) needs no Credit frame at all.
    package static let readCreditInitial = 512
    /// The most events a read lets the server send ahead of its consumer: four batches,
    /// so the next is always on the way while the consumer works through one.
    package static let readCreditEventsMax = 2048
    /// The most bytes of events a read lets the server send ahead of its consumer, at the
    /// size of the events taken last: large events get fewer credits.
    package static let readCreditBytesMax = 4 << 20

    // MARK: Subscriptions

    /// Events a catch-up subscription lets the server have in flight or the client
    /// buffered: 512 bounds both sides to a few hundred KiB for typical events while
    /// keeping a batch or two on the way.
    package static let subscriptionCreditWindow = 512
    /// Events the consumer takes before the client grants that many again: every 128
    /// means the server rarely waits for credit.
    package static let subscriptionCreditChunk = 128
    /// The wait before the second attempt to reconnect the shared connection, a
    /// subscription or a group consumer (the first goes at once for the shared connection):
    /// a restarted daemon is back within tens of milliseconds.
    package static let reconnectBackoffInitial: Duration = .milliseconds(50)
    /// The longest wait between reconnection attempts (the wait doubles up to it): a daemon
    /// that is down is not hammered, and one that comes back is found within seconds.
    package static let reconnectBackoffMax: Duration = .seconds(2)
}
