/// The database layout, its version, and the SQL the writer runs.
///
/// Streams, event types and categories are small dictionary tables whose integer ids
/// the events table stores: integer keys make every index entry short, and the writer
/// keeps each dictionary in memory so the append path never looks a name up on disk.
///
/// Indexes the append path needs for its own checks live on `events` and are written by
/// every commit: the primary key (position), the unique (stream, revision) and the unique
/// event id (idempotency, conflicts). The three that serve reads by event type, category
/// and correlation id are narrow tables of their own, filled behind the commits in
/// batches (`SecondaryIndexer`): each index on `events` costs every commit a dirty page
/// and so a WAL frame, which the single writer pays for every group (DESIGN.md §4).
/// `index_state.indexed_up_to` says how far they reach; reads cover the rest by scanning
/// `events` by position. The correlation table skips events without one (most of them).
///
/// Persistent subscription groups (version 3) keep their definition in `groups`, their
/// checkpoint in `group_progress`, the positions settled above the checkpoint in
/// `group_settled` and their parked events in `group_parked`; the last two are keyed
/// (group, position) without a rowid, so a group's rows are one contiguous range of the
/// b-tree, read and deleted by range. Every change to them runs on the writer inside a
/// group commit.
///
/// Views (version 4) are listed in `views`; each has a table `view_<id>` of its
/// documents and one expression index per indexed JSON path (`ViewTables`).
///
/// Streams (version 5) carry a lookup key, the name's NFC form (`StreamName.lookupKey`),
/// under a unique index: the log engine keeps only some streams in memory and finds the
/// others in SQLite, under any canonically equivalent spelling of their name, as the
/// in-memory maps (Swift `String` keys) do. `name` keeps the spelling first written.
///
/// Version 1 had those three as indexes on `events`; version 2 had no group tables;
/// version 3 had no views; version 4 had no lookup keys; version 5 had no stream
/// lifecycle. Opening any of them migrates it to 6.
///
/// Stream lifecycle (version 6, issue 16): `stream_lifecycle` holds a row only for a stream
/// that was deleted or given bounds (`StreamLifecycle`): its last revision, kept there so
/// that revisions continue after a scavenge removed its rows, and what hides its events.
enum Schema {
    /// `PRAGMA user_version` of the layout below. A file with a higher number was
    /// written by a newer Logbook and is refused rather than misread.
    static let version = 6

    /// `PRAGMA application_id` ("LgBk"), so a foreign SQLite file is recognised as such.
    static let applicationID: Int32 = 0x4C67_426B

    static let fileName = "logbook.sqlite"

    static let creation = """
        CREATE TABLE categories (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        );
        CREATE TABLE event_types (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        );
        \(streamsTable(named: "streams"))
        CREATE TABLE events (
            position INTEGER PRIMARY KEY,
            stream_id INTEGER NOT NULL,
            revision INTEGER NOT NULL,
            event_id BLOB NOT NULL,
            type_id INTEGER NOT NULL,
            category_id INTEGER NOT NULL,
            time_us INTEGER NOT NULL,
            content_type TEXT NOT NULL,
            data BLOB NOT NULL,
            metadata BLOB NOT NULL,
            correlation_id TEXT NOT NULL,
            causation_id TEXT NOT NULL
        );
        CREATE UNIQUE INDEX events_stream_revision ON events(stream_id, revision);
        CREATE UNIQUE INDEX events_event_id ON events(event_id);
        \(streamsLookupIndex)
        \(secondaryIndexTables)
        \(groupTables)
        \(viewsTable)
        \(streamLifecycleTable)
        PRAGMA application_id = \(applicationID);
        PRAGMA user_version = \(version);
        """

    /// Streams by id, name and lookup key (version 5).
    private static func streamsTable(named table: String) -> String {
        """
        CREATE TABLE \(table) (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            category_id INTEGER NOT NULL,
            lookup_key TEXT NOT NULL
        );
        """
    }

    /// Created after the rows of a migration, so it is built once.
    private static let streamsLookupIndex = "CREATE UNIQUE INDEX streams_lookup_key ON streams(lookup_key);"

    /// The tables that replace version 1's secondary indexes on `events`.
    private static let secondaryIndexTables = """
        CREATE TABLE events_by_type (
            type_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (type_id, position)
        ) WITHOUT ROWID;
        CREATE TABLE events_by_category (
            category_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (category_id, position)
        ) WITHOUT ROWID;
        CREATE TABLE events_by_correlation (
            correlation_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (correlation_id, position)
        ) WITHOUT ROWID;
        CREATE TABLE index_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            indexed_up_to INTEGER NOT NULL
        );
        INSERT INTO index_state (id, indexed_up_to) VALUES (1, 0);
        """

    /// What persistent subscription groups keep (version 3).
    ///
    /// | table | holds |
    /// | --- | --- |
    /// | `groups` | the definition; `initial_checkpoint` is where `start` put the checkpoint, for a reset |
    /// | `group_progress` | the checkpoint: every position at or below it is settled |
    /// | `group_settled` | positions above the checkpoint already settled |
    /// | `group_parked` | parked positions, why, after how many deliveries, and when |
    ///
    /// `selector_kind` is `stream`, `all`, `category`, `event_type` or `correlation_id`;
    /// `start_kind` is `start`, `end` or `position`; `filter_event_types` is a JSON array;
    /// `strategy` is a `GroupStrategy` raw value (`by_stream`, `round_robin` or `single`).
    private static let groupTables = """
        CREATE TABLE groups (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            selector_kind TEXT NOT NULL,
            selector_value TEXT NOT NULL,
            start_kind TEXT NOT NULL,
            start_position INTEGER NOT NULL,
            filter_event_types TEXT NOT NULL,
            filter_stream_prefix TEXT NOT NULL,
            strategy TEXT NOT NULL,
            max_in_flight INTEGER NOT NULL,
            ack_timeout_ms INTEGER NOT NULL,
            max_deliveries INTEGER NOT NULL,
            retry_backoff_ms INTEGER NOT NULL,
            created_us INTEGER NOT NULL,
            initial_checkpoint INTEGER NOT NULL
        );
        CREATE TABLE group_progress (
            group_id INTEGER PRIMARY KEY,
            checkpoint INTEGER NOT NULL
        );
        CREATE TABLE group_settled (
            group_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (group_id, position)
        ) WITHOUT ROWID;
        CREATE TABLE group_parked (
            group_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            reason TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            parked_time_us INTEGER NOT NULL,
            PRIMARY KEY (group_id, position)
        ) WITHOUT ROWID;
        """

    /// The view definitions (version 4). `indexed_paths` is a JSON array of the paths, in
    /// the order their indexes are numbered; `group_name` is the group whose acks write it.
    private static let viewsTable = """
        CREATE TABLE views (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            group_name TEXT NOT NULL,
            indexed_paths TEXT NOT NULL,
            created_us INTEGER NOT NULL
        );
        """

    /// The SQL function the migration from version 4 computes lookup keys with; it
    /// exists on the migrating connection only (`DatabaseOpener`).
    static let lookupKeyFunction = "logbook_lookup_key"

    /// Version 4 → 5: `streams` rebuilt with the lookup key (SQLite cannot add a NOT NULL
    /// column without a default), ids kept, so `events` still points at the same rows.
    /// Two rows with equivalent names cannot exist (both engines looked names up in Swift
    /// maps); if a damaged file had them, the unique index fails the migration, which
    /// rolls back and leaves the file at version 4.
    static let migrationFromVersion4 = """
        \(streamsTable(named: "streams_v5"))
        INSERT INTO streams_v5 (id, name, category_id, lookup_key)
            SELECT id, name, category_id, \(lookupKeyFunction)(name) FROM streams;
        DROP TABLE streams;
        ALTER TABLE streams_v5 RENAME TO streams;
        \(streamsLookupIndex)
        PRAGMA user_version = 5;
        """

    /// What hides a stream's events, for the streams that have any rule (version 6).
    private static let streamLifecycleTable = """
        CREATE TABLE stream_lifecycle (
            lookup_key TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            last_revision INTEGER,
            truncate_before INTEGER NOT NULL DEFAULT 0,
            deleted_before INTEGER NOT NULL DEFAULT 0,
            max_count INTEGER,
            max_age_us INTEGER,
            deleted INTEGER NOT NULL DEFAULT 0,
            tombstoned INTEGER NOT NULL DEFAULT 0
        );
        """

    /// Version 5 → 6: the stream lifecycle table, empty.
    static let migrationFromVersion5 = """
        \(streamLifecycleTable)
        PRAGMA user_version = 6;
        """

    /// Version 3 → 4: the views table, empty.
    static let migrationFromVersion3 = """
        \(viewsTable)
        PRAGMA user_version = 4;
        """

    /// Version 2 → 3: the group tables, empty.
    static let migrationFromVersion2 = """
        \(groupTables)
        PRAGMA user_version = 3;
        """

    /// Version 1 → 2. The new tables start empty (`indexed_up_to` 0); the catch-up at
    /// open fills them before the store serves anything.
    static let migrationFromVersion1 = """
        \(secondaryIndexTables)
        DROP INDEX events_type_position;
        DROP INDEX events_category_position;
        DROP INDEX events_correlation_position;
        PRAGMA user_version = 2;
        """

    enum SQL {
        static let insertEvent = """
            INSERT INTO events (position, stream_id, revision, event_id, type_id, category_id,
                time_us, content_type, data, metadata, correlation_id, causation_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        static let insertStream = "INSERT INTO streams (name, lookup_key, category_id) VALUES (?, ?, ?)"
        static let insertEventType = "INSERT INTO event_types (name) VALUES (?)"
        static let insertCategory = "INSERT INTO categories (name) VALUES (?)"
        static let findEvent = """
            SELECT e.stream_id, e.revision, e.position, e.time_us, s.name
            FROM events AS e JOIN streams AS s ON s.id = e.stream_id
            WHERE e.event_id = ?
            """
        static let begin = "BEGIN IMMEDIATE TRANSACTION"
        static let commit = "COMMIT TRANSACTION"
        static let savepoint = "SAVEPOINT append"
        static let release = "RELEASE SAVEPOINT append"
        static let rollbackToSavepoint = "ROLLBACK TO SAVEPOINT append"

        static let loadStreams = """
            SELECT s.id, s.name, s.category_id,
                (SELECT MAX(e.revision) FROM events AS e WHERE e.stream_id = s.id)
            FROM streams AS s
            """
        /// A stream's row ids by lookup key, for the log engine's indexer.
        static let findStream = "SELECT id, category_id FROM streams WHERE lookup_key = ?"
        /// A stream's name as first written and its head (NULL: no events) by lookup key:
        /// the log writer's lookup of a stream it does not keep in memory. Every event of
        /// such a stream is in SQLite (`LogAppender.loadMissingHeads`).
        static let findStreamHead = """
            SELECT s.name, (SELECT MAX(e.revision) FROM events AS e WHERE e.stream_id = s.id)
            FROM streams AS s WHERE s.lookup_key = ?
            """
        /// The same as of a read's snapshot: its last revision at or below a position.
        /// Revisions grow with positions, so the first row of the index backwards that
        /// passes the bound is the one.
        static let findStreamHeadAsOf = """
            SELECT s.name, (
                SELECT e.revision FROM events AS e INDEXED BY events_stream_revision
                WHERE e.stream_id = s.id AND e.position <= ?2
                ORDER BY e.revision DESC LIMIT 1)
            FROM streams AS s WHERE s.lookup_key = ?1
            """
        static let loadEventTypes = "SELECT id, name FROM event_types"
        static let loadCategories = "SELECT id, name FROM categories"
        static let loadHead = "SELECT position, time_us FROM events ORDER BY position DESC LIMIT 1"
        static let loadIndexedUpTo = "SELECT indexed_up_to FROM index_state WHERE id = 1"

        /// The catch-up of one batch, each bound to the range (indexed_up_to, up_to]:
        /// a range of `events` by primary key, read from the writer's page cache.
        static let indexByType = index(into: "events_by_type", key: "type_id")
        static let indexByCategory = index(into: "events_by_category", key: "category_id")
        static let indexByCorrelation = index(into: "events_by_correlation", key: "correlation_id", skipping: "''")

        /// Copies (`key`, position) of the events in the range into `table`, leaving out
        /// those whose key is `skipped`.
        private static func index(into table: String, key: String, skipping skipped: String? = nil) -> String {
            """
            INSERT INTO \(table) (\(key), position)
            SELECT \(key), position FROM events
            WHERE position > ?1 AND position <= ?2\(skipped.map { " AND \(key) <> \($0)" } ?? "")
            """
        }
        static let setIndexedUpTo = "UPDATE index_state SET indexed_up_to = ? WHERE id = 1"

        /// A group's definition and progress; `GroupRowCodec.decode` reads these columns.
        static let groupColumns = """
            g.name, g.selector_kind, g.selector_value, g.start_kind, g.start_position,
            g.filter_event_types, g.filter_stream_prefix, g.strategy, g.max_in_flight,
            g.ack_timeout_ms, g.max_deliveries, g.retry_backoff_ms, g.created_us,
            g.id, g.initial_checkpoint, p.checkpoint
            """
        /// Each group with its progress: `g` and `p` in the columns above.
        private static let groupsWithProgress = "groups AS g JOIN group_progress AS p ON p.group_id = g.id"
        static let findGroup = "SELECT \(groupColumns) FROM \(groupsWithProgress) WHERE g.name = ?"
        /// What a progress save, a reset or a delete needs: id, initial checkpoint, checkpoint.
        static let findGroupProgress = """
            SELECT g.id, g.initial_checkpoint, p.checkpoint FROM \(groupsWithProgress) WHERE g.name = ?
            """
        static let listGroups = "SELECT \(groupColumns) FROM \(groupsWithProgress) ORDER BY g.name"
        static let insertGroup = """
            INSERT INTO groups (name, selector_kind, selector_value, start_kind, start_position,
                filter_event_types, filter_stream_prefix, strategy, max_in_flight, ack_timeout_ms,
                max_deliveries, retry_backoff_ms, created_us, initial_checkpoint)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        static let updateGroupSettings = """
            UPDATE groups SET strategy = ?, max_in_flight = ?, ack_timeout_ms = ?, max_deliveries = ?,
                retry_backoff_ms = ?
            WHERE id = ?
            """
        static let insertGroupProgress = "INSERT INTO group_progress (group_id, checkpoint) VALUES (?, ?)"
        static let setGroupCheckpoint = "UPDATE group_progress SET checkpoint = ? WHERE group_id = ?"
        static let insertSettled = "INSERT OR IGNORE INTO group_settled (group_id, position) VALUES (?, ?)"
        static let deleteSettledUpTo = "DELETE FROM group_settled WHERE group_id = ? AND position <= ?"
        static let deleteAllSettled = "DELETE FROM group_settled WHERE group_id = ?"
        static let upsertParked = """
            INSERT OR REPLACE INTO group_parked (group_id, position, reason, attempts, parked_time_us)
            VALUES (?, ?, ?, ?, ?)
            """
        static let deleteParked = "DELETE FROM group_parked WHERE group_id = ? AND position = ?"
        static let deleteAllParked = "DELETE FROM group_parked WHERE group_id = ?"
        static let deleteGroupProgress = "DELETE FROM group_progress WHERE group_id = ?"
        static let deleteGroup = "DELETE FROM groups WHERE id = ?"
        static let loadSettled = "SELECT position FROM group_settled WHERE group_id = ? ORDER BY position"
        static let countParked = "SELECT COUNT(*) FROM group_parked WHERE group_id = ?"
        static let newestParked = "SELECT MAX(position) FROM group_parked WHERE group_id = ? AND position > ?"

        /// A view's columns as `StoredView` reads them.
        private static let viewColumns = "id, name, group_name, indexed_paths"
        static let findView = "SELECT \(viewColumns) FROM views WHERE name = ?"
        static let listViews = "SELECT \(viewColumns) FROM views ORDER BY name"
        static let viewsOfGroup = "SELECT \(viewColumns) FROM views WHERE group_name = ? ORDER BY name"
        static let insertView = """
            INSERT INTO views (name, group_name, indexed_paths, created_us) VALUES (?, ?, ?, ?)
            """
        static let deleteView = "DELETE FROM views WHERE id = ?"
    }
}
