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
/// - `logbook_groups` and the tables beside it (version 2): persistent groups shared by
///   the daemons. A group's streams fall into `StorageLimits.groupPartitions` partitions
///   (`GroupShare`); each partition row holds its checkpoint and its lease: the daemon
///   that owns it, until when, and an epoch that every change of owner (and every reset)
///   raises. A progress save names the epochs it was decided under and is refused when
///   one has moved (`logbook_save_group`), so a daemon that lost a lease cannot settle
///   what its successor now delivers. `logbook_lease_group` is the one place leases
///   change: the daemons that want a group (they have consumers in it) register with an
///   expiry, and partition p belongs to the (p mod n)th of the n live ones by id.
/// - `logbook_views` and a table per view (version 3, `PostgresViewSchema`).
/// - `logbook_stream_lifecycle`, the streams with lifecycle rules (version 4, `lifecycleMigration`).
enum PostgresSchema {
    /// The version this code writes and understands.
    static let version = 4

    /// Any value; the advisory lock that serialises migrations.
    static let migrationLockKey: Int64 = 0x4C4F_4742_4F4F_4B31

    /// The channel each commit notifies, with the new head as its payload.
    static let headChannel = "logbook_head"

    /// The channel of group changes, with a kind and the group's name as the payload:
    /// 'p' its progress moved (a save or a reset; the daemons read its checkpoint again
    /// for the queries that wait on it), 'm' its members or leases changed (the daemons
    /// claim again).
    static let groupChannel = "logbook_groups"

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
        ],
        [
            """
            CREATE TABLE logbook_groups (
                name text COLLATE "C" PRIMARY KEY,
                selector_kind text NOT NULL,
                selector_value text COLLATE "C" NOT NULL,
                start_kind text NOT NULL,
                start_position bigint NOT NULL,
                filter_event_types text[] COLLATE "C" NOT NULL,
                filter_stream_prefix text COLLATE "C" NOT NULL,
                strategy text NOT NULL,
                max_in_flight bigint NOT NULL,
                ack_timeout_ms bigint NOT NULL,
                max_deliveries bigint NOT NULL,
                retry_backoff_ms bigint NOT NULL,
                created_us bigint NOT NULL,
                initial_checkpoint bigint NOT NULL)
            """,
            """
            CREATE TABLE logbook_group_partitions (
                group_name text COLLATE "C" NOT NULL REFERENCES logbook_groups ON DELETE CASCADE,
                part integer NOT NULL,
                checkpoint bigint NOT NULL,
                owner uuid,
                epoch bigint NOT NULL DEFAULT 0,
                lease_until timestamptz,
                PRIMARY KEY (group_name, part))
            """,
            """
            CREATE TABLE logbook_group_settled (
                group_name text COLLATE "C" NOT NULL REFERENCES logbook_groups ON DELETE CASCADE,
                position bigint NOT NULL,
                PRIMARY KEY (group_name, position))
            """,
            """
            CREATE TABLE logbook_group_parked (
                group_name text COLLATE "C" NOT NULL REFERENCES logbook_groups ON DELETE CASCADE,
                position bigint NOT NULL,
                reason text NOT NULL,
                attempts bigint NOT NULL,
                parked_us bigint NOT NULL,
                PRIMARY KEY (group_name, position))
            """,
            """
            CREATE TABLE logbook_group_members (
                group_name text COLLATE "C" NOT NULL REFERENCES logbook_groups ON DELETE CASCADE,
                daemon uuid NOT NULL,
                expires timestamptz NOT NULL,
                PRIMARY KEY (group_name, daemon))
            """,
            // A daemon's claim on a group, renewed: it registers (or, not wanting the
            // group, leaves), drops the members whose registration expired, gives up the
            // partitions that are no longer its own and takes those that are, when free or
            // their lease ran out. The group row is locked first, so two daemons never
            // balance one group at once. Rows: 'g' with the group's lowest checkpoint;
            // 'p' per partition held (epoch, checkpoint); 's' per settled position above
            // the lowest checkpoint held. No rows: no such group.
            """
            CREATE FUNCTION logbook_lease_group(p_group text, p_daemon uuid, p_wanted boolean, p_lease_ms bigint)
            RETURNS TABLE (r_kind "char", r_part integer, r_epoch bigint, r_position bigint)
            LANGUAGE plpgsql VOLATILE AS $$
            DECLARE
                v_now timestamptz := clock_timestamp();
                v_members uuid[];
                v_count integer;
                v_me integer;
                v_floor bigint;
            BEGIN
                PERFORM 1 FROM logbook_groups g WHERE g.name = p_group FOR NO KEY UPDATE;
                IF NOT FOUND THEN RETURN; END IF;
                DELETE FROM logbook_group_members m
                    WHERE m.group_name = p_group AND (m.expires < v_now OR (m.daemon = p_daemon AND NOT p_wanted));
                IF p_wanted THEN
                    INSERT INTO logbook_group_members AS m VALUES (p_group, p_daemon, v_now + p_lease_ms * interval '1 millisecond')
                        ON CONFLICT (group_name, daemon) DO UPDATE SET expires = excluded.expires;
                END IF;
                SELECT array_agg(m.daemon ORDER BY m.daemon) INTO v_members FROM logbook_group_members m WHERE m.group_name = p_group;
                v_count := coalesce(array_length(v_members, 1), 0);
                v_me := coalesce(array_position(v_members, p_daemon), 0) - 1;
                UPDATE logbook_group_partitions p SET owner = NULL, lease_until = NULL
                    WHERE p.group_name = p_group AND p.owner = p_daemon AND (v_me < 0 OR p.part % greatest(v_count, 1) <> v_me);
                IF v_me >= 0 THEN
                    UPDATE logbook_group_partitions p
                        SET epoch = CASE WHEN p.owner = p_daemon THEN p.epoch ELSE p.epoch + 1 END,
                            owner = p_daemon,
                            lease_until = v_now + p_lease_ms * interval '1 millisecond'
                        WHERE p.group_name = p_group AND p.part % v_count = v_me
                          AND (p.owner IS NULL OR p.owner = p_daemon OR p.lease_until < v_now);
                END IF;
                RETURN QUERY SELECT 'g'::"char", NULL::integer, NULL::bigint, min(p.checkpoint)
                    FROM logbook_group_partitions p WHERE p.group_name = p_group;
                RETURN QUERY SELECT 'p'::"char", p.part, p.epoch, p.checkpoint
                    FROM logbook_group_partitions p WHERE p.group_name = p_group AND p.owner = p_daemon;
                SELECT min(p.checkpoint) INTO v_floor
                    FROM logbook_group_partitions p WHERE p.group_name = p_group AND p.owner = p_daemon;
                IF v_floor IS NOT NULL THEN
                    RETURN QUERY SELECT 's'::"char", NULL::integer, NULL::bigint, s.position
                        FROM logbook_group_settled s WHERE s.group_name = p_group AND s.position > v_floor
                        ORDER BY s.position;
                END IF;
            END
            $$
            """,
            // One progress save, fenced: every partition it names must still be the
            // daemon's under the epoch it was decided under (SQLSTATE LB001 otherwise;
            // LB002 for no such group). The partition rows stay locked to the end of the
            // save, so a lease that moves waits for it, and its new owner reads this save.
            // Checkpoints move forwards only; settled positions are kept above the lowest
            // checkpoint of the group; parks go in before unparks. Returns the lowest
            // checkpoint of the partitions saved.
            """
            CREATE FUNCTION logbook_save_group(
                p_group text, p_daemon uuid, p_parts integer[], p_epochs bigint[], p_checkpoint bigint,
                p_settled bigint[], p_parked bigint[], p_reasons text[], p_attempts bigint[], p_unparked bigint[],
                p_time_us bigint)
            RETURNS bigint
            LANGUAGE plpgsql VOLATILE AS $$
            DECLARE
                v_held integer;
                v_floor bigint;
            BEGIN
                PERFORM 1 FROM logbook_groups g WHERE g.name = p_group;
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'group ''%'' does not exist', p_group USING ERRCODE = 'LB002';
                END IF;
                SELECT count(*) INTO v_held FROM (
                    SELECT 1 FROM logbook_group_partitions p
                        JOIN unnest(p_parts, p_epochs) AS l(part, epoch) ON p.part = l.part AND p.epoch = l.epoch
                        WHERE p.group_name = p_group AND p.owner = p_daemon
                        FOR UPDATE OF p) AS held;
                IF v_held <> coalesce(array_length(p_parts, 1), 0) OR v_held = 0 THEN
                    RAISE EXCEPTION 'this daemon no longer holds the lease it delivered group ''%'' under', p_group
                        USING ERRCODE = 'LB001';
                END IF;
                UPDATE logbook_group_partitions p SET checkpoint = greatest(p.checkpoint, p_checkpoint)
                    WHERE p.group_name = p_group AND p.part = ANY(p_parts);
                SELECT min(p.checkpoint) INTO v_floor FROM logbook_group_partitions p WHERE p.group_name = p_group;
                DELETE FROM logbook_group_settled s WHERE s.group_name = p_group AND s.position <= v_floor;
                INSERT INTO logbook_group_settled
                    SELECT p_group, s FROM unnest(p_settled) AS s WHERE s > p_checkpoint AND s > v_floor
                    ON CONFLICT DO NOTHING;
                INSERT INTO logbook_group_parked AS k
                    SELECT p_group, u.position, u.reason, u.attempts, p_time_us
                    FROM unnest(p_parked, p_reasons, p_attempts) AS u(position, reason, attempts)
                    ON CONFLICT (group_name, position) DO UPDATE
                        SET reason = excluded.reason, attempts = excluded.attempts, parked_us = excluded.parked_us;
                DELETE FROM logbook_group_parked k WHERE k.group_name = p_group AND k.position = ANY(p_unparked);
                RETURN (SELECT min(p.checkpoint) FROM logbook_group_partitions p
                    WHERE p.group_name = p_group AND p.part = ANY(p_parts));
            END
            $$
            """,
        ],
        PostgresViewSchema.migration,
        lifecycleMigration,
    ]

    /// Version 4 (issue 16): a row per stream with lifecycle rules (`StreamLifecycle`), and
    /// `logbook_begin_append` returns the rows of the batch's streams: 'l' (name, last
    /// revision, truncate_before, max_age_us) and 'm' (max_count, deleted_before, flags:
    /// 1 deleted, 2 tombstoned), in the columns the function already has. A daemon of
    /// version 3 still running refuses an append that meets them (a row kind it does not
    /// know) rather than write past a tombstone; restart every daemon after the upgrade.
    private static let lifecycleMigration = [
        """
        CREATE TABLE logbook_stream_lifecycle (
            lookup_key text COLLATE "C" PRIMARY KEY,
            name text COLLATE "C" NOT NULL,
            last_revision bigint,
            truncate_before bigint NOT NULL DEFAULT 0,
            deleted_before bigint NOT NULL DEFAULT 0,
            max_count bigint,
            max_age_us bigint,
            deleted boolean NOT NULL DEFAULT false,
            tombstoned boolean NOT NULL DEFAULT false)
        """,
        """
        CREATE OR REPLACE FUNCTION logbook_begin_append(stream_keys text[], event_ids bytea[])
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
            RETURN QUERY SELECT 'l'::"char", l.lookup_key::text, l.name::text, l.last_revision, l.truncate_before,
                    l.max_age_us, NULL::bytea
                FROM logbook_stream_lifecycle l WHERE l.lookup_key = ANY(stream_keys);
            RETURN QUERY SELECT 'm'::"char", l.lookup_key::text, NULL::text, l.max_count, l.deleted_before,
                    (CASE WHEN l.deleted THEN 1 ELSE 0 END + CASE WHEN l.tombstoned THEN 2 ELSE 0 END)::bigint, NULL::bytea
                FROM logbook_stream_lifecycle l WHERE l.lookup_key = ANY(stream_keys);
        END
        $$
        """,
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
