/// Every bound the storage module enforces, in one place.
///
/// The server has its own, usually tighter, limits for what arrives on the wire; these
/// are the last line before bytes reach the disk, so a caller that forgets a check
/// still cannot make the writer hold unbounded memory or write unbounded rows.
package enum StorageLimits {
    /// Appends waiting for the writer. At ~1 ms per group commit this is several
    /// seconds of work; past it `append` fails fast with `.overloaded` instead of
    /// letting memory grow without bound.
    package static let appendQueueDepthMax = 16_384

    /// Events in one append. Keeps one append (and so one savepoint) small enough that
    /// it cannot stall every other appender in its batch for long.
    package static let eventsPerAppendMax = 10_000

    /// Streams named by one atomic append.
    package static let streamsPerAppendMax = 1_000

    /// Bytes of one event's data: the wire's default frame size.
    package static let eventDataBytesMax = 16 * 1024 * 1024

    /// Bytes of data and metadata in one append, all its events together: the log engine
    /// writes an append within one sync (`LogLimits.syncReachBytesDefault`, 32 MiB, with
    /// room for framing and names), and both engines refuse the same appends. Above the
    /// wire's default frame size, so through the daemon only a raised frame limit meets it.
    package static let appendBytesMax = 24 * 1024 * 1024

    /// Bytes of one event's encoded metadata.
    package static let metadataBytesMax = 64 * 1024

    /// UTF-8 bytes of a stream name. Names are keys of an in-memory dictionary and of
    /// a unique index; long ones cost memory on every lookup.
    package static let streamNameBytesMax = 1_024

    /// UTF-8 bytes of an event type name (also an in-memory dictionary key).
    package static let eventTypeBytesMax = 1_024

    /// UTF-8 bytes of a content type, a correlation id or a causation id.
    package static let shortStringBytesMax = 1_024

    /// Events returned by one `read`; the caller pages by calling again.
    package static let readBatchEventsMax = 10_000

    /// Events a read reserves room for before it runs: a read asking for many usually
    /// gets a short page (a stream's tail, a filtered scan), so its array grows past this
    /// only when the events are really there.
    static let readReservedEventsMax = 256

    /// The payload bytes a `$all` read of the log engine takes from the log at a time:
    /// a filtered read may pass over many records to find a few.
    static let logScanBytesMax = 4 * 1024 * 1024

    /// The records a filtered `$all` read of the log engine takes from the log at least at
    /// a time (it takes what it still needs when that is more).
    static let logScanFilteredRecordsMin = 256

    /// Problems `PRAGMA quick_check` reports when the store is opened: enough to say what
    /// is damaged, without a long listing for a file that is refused anyway.
    static let integrityProblemsReported = 10

    /// Bytes of a backup file read or written at a time: one BackupChunk frame, and the
    /// buffer a verify or a restore reads through.
    package static let backupChunkBytes = 1 << 20

    /// Event types in one read filter (each becomes a bound SQL parameter).
    package static let filterEventTypesMax = 100

    /// Pages (KiB, as `PRAGMA cache_size` takes negative values) of the writer's page
    /// cache. Large enough that the unique and position indexes stay in memory for a
    /// log of several million events, so the append path rarely reads the disk.
    package static let writerCacheKiB = 65_536

    /// Reader connections in the pool: one per core is plenty on the 2-core target;
    /// a few more let slow catch-up reads not block short ones.
    package static let readerConnectionsMax = 6

    /// Un-indexed events (positions past what the type, category and correlation
    /// tables cover) that make the writer index them after a commit. Large enough that
    /// the index transaction, with its own fsync, is rare next to the commits (measured
    /// in DESIGN.md §4); small enough that a read scanning the un-indexed tail stays short
    /// and one catch-up delays the next commit by milliseconds at most.
    package static let indexBatchEvents = 4_096

    /// How long the writer waits with nothing to commit before it indexes a smaller
    /// tail. Far above the gap between commits under load (a client's round trip), so
    /// a busy writer never pays an index transaction per commit.
    package static let indexIdleDelayMilliseconds = 20

    // MARK: Log engine

    /// Committed events the log engine's indexer may leave unstored in SQLite; past it
    /// the log writer waits for the indexer before it commits more. The tail is served
    /// from memory (a few hundred bytes an event), and a crash re-indexes it from the log
    /// on start, so this bounds both the memory and the start-up work. Several seconds of
    /// appends at full speed: the indexer catches up between bursts, never per commit.
    package static let unstoredTailEventsMax = 262_144

    /// Unstored events that make the indexer store the tail at once; a smaller tail
    /// waits `indexIdleDelayMilliseconds` for more. One transaction per commit wrote
    /// each touched page to the WAL again for every few events (2.8 `pwrite`s per event
    /// at 50 clients); batching shares the pages among many events.
    package static let storeBatchEvents = 4_096

    /// Data and metadata bytes the unstored tail may hold, for the same reasons: large
    /// events reach it long before the event count, and it bounds what a flood of
    /// appends costs the daemon in memory while the indexer catches up.
    package static let unstoredTailBytesMax = 16 * 1024 * 1024

    /// Streams whose head (and, for the indexer, row ids) each of the log engine's
    /// threads keeps in memory: the log writer, the readers' published state and the
    /// indexer. A stream not kept is looked up in SQLite (one indexed read), so the
    /// memory and the start of a log with millions of streams do not grow with them.
    /// Streams whose newest event SQLite does not hold yet are kept beyond it: at most
    /// `unstoredTailEventsMax` more. The SQLite engine keeps every stream.
    package static let streamsCachedMax = 100_000

    /// Bits per event id in the log writer's id filter: with four probes about 0.2% of
    /// fresh ids cost a SQLite lookup; 2 bytes of memory per event in the log.
    static let eventIDFilterBitsPerID = 16

    /// The smallest filter (1 MiB): room for half a million ids before the first rebuild.
    static let eventIDFilterBitsMin = 8 * 1024 * 1024

    /// Ids added between two saves of the event-id filter to disk: a start after a
    /// crash adds at most this many (plus the unstored tail) from SQLite, whatever the
    /// size of the log. A save copies the filter (2 MiB per million ids) off the writer.
    static let eventIDFilterSaveEvents = 131_072

    /// How long the indexer waits before it tries again to store the tail after a full
    /// disk: often enough to resume soon after space returns, rarely enough to cost
    /// nothing meanwhile.
    static let storeRetryDelay: Duration = .milliseconds(100)

    /// How long a read that joins `events` in SQL (system views, parked events) waits
    /// for the indexer to store what it must see before it fails: only a stalled
    /// indexer (a full disk) takes that long.
    static let storedWaitMax: Duration = .seconds(10)

    /// UTF-8 bytes of a group name: a key operators type and see in listings.
    package static let groupNameBytesMax = 256

    /// UTF-8 bytes of a parked event's reason; a longer one (a client's nack text) is
    /// cut rather than failing the save that parks it.
    package static let parkReasonBytesMax = 1_024

    /// Settled, parked and unparked positions in one `saveGroupProgress` together. Far
    /// above what a group holds in memory (its buffer), so only a bug reaches it; it keeps
    /// one save, and so the savepoint that every commit of its batch waits on, short.
    package static let groupPositionsPerSaveMax = 65_536

    /// Parked events returned by one `parkedEvents`; a replay pages through the rest.
    package static let parkedEventsPerListMax = 10_000

    /// How long the SQLite engine's writer spins for more work after a commit before it
    /// sleeps; about one local round trip. (The log engine's writer does not spin: an idle
    /// writer lets the event loop commit a lone client's appends itself.)
    static let writerSpin: Duration = .microseconds(200)

    // MARK: Views and Query

    /// Decoded `indexed_paths` texts remembered (`StoredView`); a view's paths never change,
    /// so this only bounds memory against views defined and dropped over and over.
    static let viewsDecodedPathsMax = 1_024

    /// UTF-8 bytes of a view name.
    package static let viewNameBytesMax = 256

    /// JSON paths one view indexes (each index costs every write to the view).
    package static let viewIndexedPathsMax = 16

    /// UTF-8 bytes of a JSON path in a view definition or a query.
    package static let jsonPathBytesMax = 256

    /// UTF-8 bytes of a document key.
    package static let viewKeyBytesMax = 1_024

    /// Bytes of one document or merge patch.
    package static let viewDocumentBytesMax = 1024 * 1024

    /// View writes one ack carries.
    package static let viewWritesPerAckMax = 1_000

    /// View writes one progress save carries: the acks of a whole pass of a group's driver,
    /// so as many acks as a save has positions.
    package static let viewWritesPerSaveMax = groupPositionsPerSaveMax * viewWritesPerAckMax

    /// Predicates in one query, and values in one `in` predicate.
    package static let queryPredicatesMax = 32
    package static let queryInValuesMax = 1_000

    /// UTF-8 bytes of one JSON literal in a predicate: enough for any key or indexed
    /// string a query compares against.
    package static let queryLiteralBytesMax = 16 * 1_024

    /// Rows of one query page when the query does not say, and at most.
    package static let queryRowsDefault = 100
    package static let queryRowsMax = 10_000

    /// Statements a view lookup reader keeps prepared (`ViewLookupReader`): each view has
    /// a few shapes of lookup, so this covers dozens of views; past it the cache restarts.
    static let lookupStatementsKeptMax = 256

    /// How long a view lookup on an event loop waits out SQLite's rare busy moments of a
    /// WAL reader (another process recovering the log, the last connection closing).
    static let lookupBusyTimeoutMilliseconds = 1_000

    // PostgreSQL store (DESIGN §10).

    /// Events in one append transaction at most: a daemon's waiting appends go into one
    /// transaction up to this many, so one transaction's arrays stay a few MiB.
    package static let postgresBatchEventsMax = 10_000

    /// Connections one daemon opens to PostgreSQL for reads, used in turn; the writer and
    /// the LISTEN keep one more each.
    package static let postgresReadConnections = 4

    /// View table ids a PostgreSQL store remembers by view name; bounds memory against
    /// views defined and dropped over and over.
    package static let postgresViewTablesKnownMax = 1_024

    /// How long one append transaction may take before its connection is closed and its
    /// appends answer UNAVAILABLE (see `PostgresLink.transaction`).
    package static let postgresTransactionMax: Duration = .seconds(5)

    /// How long one read statement may take before its connection is closed and the read
    /// answers UNAVAILABLE (a read batch is at most `readBatchEventsMax` events).
    package static let postgresStatementMax: Duration = .seconds(30)

    /// How long the LISTEN connection waits before it tries again after losing PostgreSQL.
    package static let postgresListenRetryDelay: Duration = .milliseconds(500)

    /// Partitions of a group on PostgreSQL (`GroupShare`): the most daemons that can share
    /// one group's deliveries. Fixed: the partition of a stream must never change.
    package static let groupPartitions = 16

    /// A daemon's lease on a group's partitions lasts this share of the group's ack
    /// timeout, and is renewed three times as often: a daemon that dies hands its
    /// partitions over within the ack timeout.
    package static let groupLeaseShareOfAckTimeout = 0.5

    /// Bounds of a lease, whatever the ack timeout: short enough for a handover to be
    /// seen in a test, long enough for renewals not to load PostgreSQL.
    package static let groupLeaseMin: Duration = .milliseconds(600)
    package static let groupLeaseMax: Duration = .seconds(30)
}
