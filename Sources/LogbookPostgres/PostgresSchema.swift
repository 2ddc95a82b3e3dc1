internal import LogbookStorage
internal import Logging
internal import PostgresNIO

/// The PostgreSQL store's tables, created and migrated in versions.
///
/// Every daemon that opens the database runs `migrate` under one advisory lock, so two
/// starting at once do not race; a database written by a newer Logbook is refused, as the
/// embedded stores refuse one.
///
/// - `logbook_head`: one row, the last position and its commit time. Every append
///   transaction locks it first (`FOR UPDATE`) and holds it to COMMIT, so commits are
///   serialised across daemons and positions become visible in commit order: a reader
///   that sees position p sees every position below it.
/// - `logbook_streams`: one row per stream, by its NFC lookup key: the name as first
///   written, the last revision and its position.
/// - `logbook_events`: the log. Text columns compare bytes (`COLLATE "C"`), as the
///   embedded stores do.
enum PostgresSchema {
    /// The version this code writes and understands.
    static let version = 1

    /// Any value; the advisory lock that serialises migrations.
    static let migrationLockKey: Int64 = 0x4C4F_4742_4F4F_4B31

    /// The channel each commit notifies, with the new head as its payload.
    static let headChannel = "logbook_head"

    private static let migrations: [[String]] = [
        [
            """
            CREATE TABLE logbook_head (
                id integer PRIMARY KEY CHECK (id = 1),
                position bigint NOT NULL,
                time_us bigint NOT NULL)
            """,
            "INSERT INTO logbook_head VALUES (1, 0, 0)",
            """
            CREATE TABLE logbook_streams (
                lookup_key text COLLATE "C" PRIMARY KEY,
                name text COLLATE "C" NOT NULL,
                revision bigint NOT NULL,
                position bigint NOT NULL)
            """,
            """
            CREATE TABLE logbook_events (
                position bigint PRIMARY KEY,
                stream_key text COLLATE "C" NOT NULL,
                stream text COLLATE "C" NOT NULL,
                revision bigint NOT NULL,
                category text COLLATE "C" NOT NULL,
                event_id bytea NOT NULL UNIQUE,
                type text COLLATE "C" NOT NULL,
                time_us bigint NOT NULL,
                content_type text COLLATE "C" NOT NULL,
                data bytea NOT NULL,
                metadata bytea NOT NULL,
                correlation_id text COLLATE "C" NOT NULL,
                causation_id text COLLATE "C" NOT NULL,
                UNIQUE (stream_key, revision))
            """,
            "CREATE INDEX logbook_events_category ON logbook_events (category, position)",
            "CREATE INDEX logbook_events_type ON logbook_events (type, position)",
            """
            CREATE INDEX logbook_events_correlation ON logbook_events (correlation_id, position)
                WHERE correlation_id <> ''
            """,
            "CREATE INDEX logbook_events_time ON logbook_events (time_us, position)",
            // One round trip for what an append transaction reads before it decides: the
            // head row, locked first, then the batch's streams and ids. Each statement of a
            // VOLATILE function takes a new snapshot, so the two reads after the lock see
            // every commit that held it before; one statement could not (its snapshot
            // would predate the wait for the lock).
            """
            CREATE FUNCTION logbook_begin_append(stream_keys text[], event_ids bytea[])
            RETURNS TABLE (kind "char", stream_key text, stream text, revision bigint, "position" bigint,
                           time_us bigint, event_id bytea)
            LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                RETURN QUERY SELECT 'h'::"char", NULL::text, NULL::text, NULL::bigint, h.position, h.time_us, NULL::bytea
                    FROM logbook_head h WHERE h.id = 1 FOR UPDATE;
                RETURN QUERY SELECT 's'::"char", s.lookup_key::text, s.name::text, s.revision, s.position, NULL::bigint, NULL::bytea
                    FROM logbook_streams s WHERE s.lookup_key = ANY(stream_keys);
                RETURN QUERY SELECT 'e'::"char", e.stream_key::text, e.stream::text, e.revision, e.position, e.time_us, e.event_id
                    FROM logbook_events e WHERE e.event_id = ANY(event_ids);
            END
            $$
            """,
        ]
    ]

    /// Brings the database to `version`, or refuses one that is newer.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS logbook_schema (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)",
                logger: logger)
            var current = 0
            for try await (stored) in try await connection.query(
                "SELECT version FROM logbook_schema WHERE id = 1", logger: logger
            ).decode(Int.self) {
                current = stored
            }
            guard current <= version else {
                throw StorageError(
                    code: .unsupportedSchema,
                    message: "the database holds schema version \(current), written by a newer Logbook; this one understands up to \(version)")
            }
            guard current < version else { return }
            for statements in migrations[current...] {
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            try await connection.query(
                """
                INSERT INTO logbook_schema VALUES (1, \(version))
                ON CONFLICT (id) DO UPDATE SET version = excluded.version
                """,
                logger: logger)
            logger.info("PostgreSQL schema migrated", metadata: ["from": "\(current)", "to": "\(version)"])
        }
    }
}
