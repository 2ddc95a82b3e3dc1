internal import LogbookStorage
internal import LogbookWire

/// Every limit the server enforces, and every number it sizes its work by, in one place.
///
/// Each has a reason for its value; a request past one fails with a clear `Status`
/// (`RESOURCE_EXHAUSTED` or `INVALID_ARGUMENT` with a `LimitExceeded` detail) and costs the
/// server nothing more than the check. The frame, append and event limits are announced to
/// clients in `HelloReply`.
package struct Limits: Sendable, Hashable {
    /// The largest frame either side may send. 16 MiB holds a full append of many events and
    /// is the largest buffer one connection can make the daemon hold.
    package var frameBytesMax: Int = 16 << 20
    /// Events in one Append over all its streams: the store's own bound
    /// (`StorageLimits.eventsPerAppendMax`), checked here so a request past it fails before
    /// it is decoded into storage values.
    package var eventsPerAppendMax: Int = StorageLimits.eventsPerAppendMax
    /// Data plus metadata of one event. Events are facts, not blobs; 4 MiB leaves room for
    /// generous documents while keeping one event well inside a frame.
    package var eventBytesMax: Int = 4 << 20
    /// Stream names, event types, content types, correlation and causation ids, metadata keys.
    package var nameBytesMax: Int = 1024
    /// Calls a connection may have open at once; each holds a task and, for reads, a batch.
    package var openCallsPerConnectionMax: Int = 256
    /// Connections at once (`--connections-max`); each holds buffers and a task.
    package var connectionsMax: Int = 1024
    /// Connections at once from one uid (`--connections-per-uid`), so that one misbehaving
    /// service cannot take every connection from the others. Root and the daemon's own user
    /// are not capped (benchmarks and the operator's tools run as them); a service's pool
    /// is tens of connections.
    package var connectionsPerUIDMax: Int = 256
    /// Events in one EventBatch frame of a read. Big enough to amortise framing, small enough
    /// that back-pressure from the socket bites early.
    package var readBatchEventsMax: Int = 512
    /// Payload bytes in one EventBatch frame (a batch stops growing past this).
    package var readBatchBytesMax: Int = 1 << 20
    /// What an event costs in an EventBatch beyond its data, stream name and type, as the
    /// batching estimates it: its fixed fields and framing, rounded up.
    package var eventOverheadBytes: Int = 64
    /// Threads for blocking storage reads, so they never hold the event loops or the
    /// cooperative pool: one per core of the 2-core target, and as many again for reads
    /// that wait on the disk.
    package var readThreads: Int = 4
    /// Connections the kernel queues before the server accepts them: a burst of clients
    /// starting at once, well below `connectionsMax`.
    package var listenBacklog: Int = 256
    /// Credit a subscription starts with when its request grants none: events the server
    /// may send before the client grants more.
    package var subscriptionCreditDefault: Int = 1024
    /// BackupChunk frames (of up to 1 MiB each) a backup sends before the client grants
    /// more, when its request names none.
    package var backupCreditDefault: Int = 4
    /// A caught-up subscriber this many events behind the head is told FellBehind (and
    /// CaughtUp again when it reaches the head).
    package var fellBehindEventsMin: UInt64 = 10_000
    /// A filtered subscription reports progress through events it skips at most this often.
    package var checkpointInterval: Duration = .milliseconds(500)
    /// How long a new connection has to send Hello before it is closed.
    package var helloTimeout: Duration = .seconds(10)

    /// How long a graceful shutdown (SIGTERM) may take before the daemon cancels what is
    /// left: a call held by a client that stopped reading must not keep it from exiting.
    /// Accepted appends commit in milliseconds, far inside it.
    package var shutdownGraceMax: Duration = .seconds(10)
    /// How long one partly received frame may take to arrive in full.
    package var partialFrameTimeout: Duration = .seconds(30)
    /// How long a query with `min_position` and no `wait_ms` waits for its view to catch up
    /// (the wire's `QueryDefaults`, which the clients show).
    package var queryWaitDefault: Duration = QueryDefaults.wait
    /// The longest `wait_ms` a query may ask for; a longer wait is a stuck projection.
    package var queryWaitMax: Duration = .seconds(300)
    /// Rows (keys and documents) in one QueryReply frame; a page that would be larger is cut
    /// short and its cursor continues after the last row sent.
    package var queryReplyBytesMax: Int = 8 << 20
    /// What a row costs in a QueryReply beyond its key and document, as the reply budget
    /// counts it: field tags and lengths, rounded up.
    package var queryRowOverheadBytes: Int = 16
    /// Parked events a ListParked request gets when it names no limit (at most
    /// `readBatchEventsMax`): a screenful for an operator.
    package var parkedListDefault: Int = 100

    // MARK: Subscription groups

    /// Events a group holds in memory at most (loaded, in flight, or settled above its
    /// checkpoint); the log is read further only as room frees up. Bounds a group's memory
    /// whatever its consumers do.
    package var groupBufferEventsMax: Int = 4096
    /// Events a group reads from the log in one pass of its driver: one read batch.
    package var groupReadBatchEventsMax: Int = 512
    /// Parked events a group reads per page when it collects the streams they hold (at
    /// most `StorageLimits.parkedEventsPerListMax`).
    package var groupParkedPageEventsMax: Int = 1024

    /// How often a daemon on a shared store (PostgreSQL) looks for the groups the other
    /// daemons created, changed or deleted.
    package var groupFollowInterval: Duration = .seconds(1)

    /// Times a retry's backoff doubles at most: the longest wait is 2^5 = 32 times the
    /// group's first, so a poison event is retried ever more slowly but never stalls long.
    package var groupRetryBackoffDoublingsMax: Int = 5
    /// Settled entries a group's state machine lets pile up at the front of its order
    /// before it compacts it: compacting is a copy, so it waits until the front is both
    /// this long and half the order.
    package var groupCompactionEntriesMin: Int = 1024

    // MARK: Access control

    /// Denials logged per `deniedLogWindow` at most (`--acl`): a client looping on a
    /// denied call must not fill the log. The next line logged counts the ones left out.
    package static let deniedLogsPerWindow = 10
    package static let deniedLogWindow: Duration = .seconds(10)

    // MARK: Stream lifecycle

    /// The longest max age a stream's metadata may set (about 1000 years): kept in
    /// microseconds, it must not overflow.
    package static let streamMaxAgeSecondsMax: UInt64 = 31_557_600_000

    package init() {}
}
