/// Version 3 of the PostgreSQL schema: views (DESIGN §6) that every daemon on the
/// database shares, and group progress saves that carry their writes.
///
/// - `logbook_views`: one row per view. Its group must exist, and a group that writes
///   views cannot be deleted (the foreign key).
/// - `logbook_view_<id>`: a view's documents, `jsonb` by key (keys compare bytes, as
///   the embedded stores' do), with one index per indexed path.
/// - `logbook_sort_key(value)`: the order SQLite gives what `json_extract` returns,
///   which the embedded stores' queries follow: a missing path or null first, then
///   numbers by value with false and true among them as 0 and 1, then strings by their
///   UTF-8 bytes with objects and arrays among them as their JSON text. It returns a
///   composite `(rank, num, txt)` that compares in that order, and the indexes are built
///   on it, so a predicate or an order on an indexed path reads its index.
/// - `logbook_merge_patch`: RFC 7396, as SQLite's `json_patch`.
/// - `logbook_save_group` gains the view writes, applied after its fence under the same
///   transaction, and notifies `logbook_groups` ('p' and the group's name: its progress
///   moved) when the group writes views, whose readers wait on it; `logbook_reset_group` does a reset with the views it clears, and notifies
///   too; `logbook_lease_group` notifies ('m' and the name) when a claim changed who holds
///   what, so the other daemons claim again at once.
enum PostgresViewSchema {
    static let migration: [String] = [
        """
        CREATE TABLE logbook_views (
            id bigserial PRIMARY KEY,
            name text COLLATE "C" NOT NULL UNIQUE,
            group_name text COLLATE "C" NOT NULL REFERENCES logbook_groups (name),
            indexed_paths text[] COLLATE "C" NOT NULL,
            created_us bigint NOT NULL)
        """,
        "CREATE INDEX logbook_views_group ON logbook_views (group_name)",
        #"CREATE TYPE logbook_sort AS (rank smallint, num numeric, txt text COLLATE "C")"#,
        """
        CREATE FUNCTION logbook_sort_key(v jsonb) RETURNS logbook_sort
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE jsonb_typeof(v)
                WHEN 'number' THEN ROW(1, v::numeric, '')::logbook_sort
                WHEN 'boolean' THEN ROW(1, CASE WHEN v::boolean THEN 1 ELSE 0 END, '')::logbook_sort
                WHEN 'string' THEN ROW(2, 0, v #>> '{}')::logbook_sort
                WHEN 'object' THEN ROW(2, 0, v::text)::logbook_sort
                WHEN 'array' THEN ROW(2, 0, v::text)::logbook_sort
                ELSE ROW(0, 0, '')::logbook_sort
            END
        $$
        """,
        """
        CREATE FUNCTION logbook_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
        DECLARE
            v_result jsonb;
            v_key text;
            v_value jsonb;
        BEGIN
            IF jsonb_typeof(patch) IS DISTINCT FROM 'object' THEN RETURN patch; END IF;
            v_result := CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}'::jsonb END;
            FOR v_key, v_value IN SELECT e.key, e.value FROM jsonb_each(patch) AS e LOOP
                IF jsonb_typeof(v_value) = 'null' THEN
                    v_result := v_result - v_key;
                ELSE
                    v_result := jsonb_set(v_result, ARRAY[v_key], logbook_merge_patch(v_result -> v_key, v_value), true);
                END IF;
            END LOOP;
            RETURN v_result;
        END
        $$
        """,
        // Defines a view, or finds it defined: 'c' created, 's' the same one exists, 'd'
        // a different one has the name (its group and paths returned), 'g' no such
        // group. Definitions change one at a time (the table lock), rarely.
        """
        CREATE FUNCTION logbook_define_view(
            p_name text, p_group text, p_paths text[], p_index_paths text[], p_time_us bigint)
        RETURNS TABLE (r_outcome "char", r_group text, r_paths text[])
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            v_id bigint;
            v_table text;
            v_group text;
            v_paths text[];
        BEGIN
            LOCK TABLE logbook_views IN SHARE ROW EXCLUSIVE MODE;
            SELECT v.group_name, v.indexed_paths INTO v_group, v_paths FROM logbook_views v WHERE v.name = p_name;
            IF FOUND THEN
                RETURN QUERY SELECT (CASE WHEN v_group = p_group AND v_paths = p_paths THEN 's' ELSE 'd' END)::"char",
                    v_group, v_paths;
                RETURN;
            END IF;
            PERFORM 1 FROM logbook_groups g WHERE g.name = p_group FOR KEY SHARE;
            IF NOT FOUND THEN
                RETURN QUERY SELECT 'g'::"char", NULL::text, NULL::text[];
                RETURN;
            END IF;
            INSERT INTO logbook_views (name, group_name, indexed_paths, created_us)
                VALUES (p_name, p_group, p_paths, p_time_us) RETURNING id INTO v_id;
            v_table := 'logbook_view_' || v_id;
            EXECUTE format('CREATE TABLE %I (key text COLLATE "C" PRIMARY KEY, doc jsonb NOT NULL)', v_table);
            FOR i IN 1..coalesce(array_length(p_index_paths, 1), 0) LOOP
                EXECUTE format('CREATE INDEX %I ON %I (logbook_sort_key(doc #> %L), key)',
                    v_table || '_i' || (i - 1), v_table, p_index_paths[i]);
            END LOOP;
            RETURN QUERY SELECT 'c'::"char", p_group, p_paths;
        END
        $$
        """,
        // Drops a view and its documents; false for no such view. A save writing the
        // view holds its row (FOR SHARE) to commit, so the drop waits for it.
        """
        CREATE FUNCTION logbook_drop_view(p_name text) RETURNS boolean
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            v_id bigint;
        BEGIN
            LOCK TABLE logbook_views IN SHARE ROW EXCLUSIVE MODE;
            DELETE FROM logbook_views v WHERE v.name = p_name RETURNING v.id INTO v_id;
            IF v_id IS NULL THEN RETURN false; END IF;
            EXECUTE format('DROP TABLE %I', 'logbook_view_' || v_id);
            RETURN true;
        END
        $$
        """,
        // The first problem of an ack's view writes, before the ack is accepted: 'n' no
        // such view, 'g' the view is another group's (its name in r_detail), 'j' a body
        // PostgreSQL does not take as JSON (why in r_detail), 's' a merge that would make
        // a document past p_size_max bytes (the size in r_detail). No row: all good. The
        // bodies are parsed together first, so the usual case costs one subtransaction.
        """
        CREATE FUNCTION logbook_check_view_writes(
            p_group text, p_views text[], p_keys text[], p_ops text[], p_bodies text[], p_size_max bigint)
        RETURNS TABLE (r_index integer, r_problem "char", r_detail text)
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            v_id bigint;
            v_owner text;
            v_size bigint;
            v_parsed boolean := true;
        BEGIN
            BEGIN
                PERFORM w.body::jsonb FROM unnest(p_bodies, p_ops) AS w(body, op) WHERE w.op <> 'r';
            EXCEPTION WHEN data_exception THEN
                v_parsed := false;
            END;
            FOR i IN 1..coalesce(array_length(p_views, 1), 0) LOOP
                SELECT v.id, v.group_name INTO v_id, v_owner FROM logbook_views v WHERE v.name = p_views[i];
                IF NOT FOUND THEN
                    RETURN QUERY SELECT i, 'n'::"char", NULL::text;
                    RETURN;
                END IF;
                IF v_owner <> p_group THEN
                    RETURN QUERY SELECT i, 'g'::"char", v_owner;
                    RETURN;
                END IF;
                CONTINUE WHEN p_ops[i] = 'r';
                IF NOT v_parsed THEN
                    BEGIN
                        PERFORM p_bodies[i]::jsonb;
                    EXCEPTION WHEN data_exception THEN
                        RETURN QUERY SELECT i, 'j'::"char", SQLERRM;
                        RETURN;
                    END;
                END IF;
                IF p_ops[i] = 'm' THEN
                    EXECUTE format('SELECT octet_length(logbook_merge_patch(t.doc, $1::jsonb)::text) FROM %I t WHERE t.key = $2',
                        'logbook_view_' || v_id) INTO v_size USING p_bodies[i], p_keys[i];
                    IF v_size > p_size_max THEN
                        RETURN QUERY SELECT i, 's'::"char", v_size::text;
                        RETURN;
                    END IF;
                END IF;
            END LOOP;
        END
        $$
        """,
        // Version 2's claim, telling the other daemons when it changed who holds what: a
        // daemon joined or left (or expired), or gave partitions up. They claim again at
        // once rather than at their next renewal, so a joining daemon gets its partitions
        // within a round trip or two, not a sixth of the ack timeout later.
        """
        CREATE OR REPLACE FUNCTION logbook_lease_group(p_group text, p_daemon uuid, p_wanted boolean, p_lease_ms bigint)
        RETURNS TABLE (r_kind "char", r_part integer, r_epoch bigint, r_position bigint)
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            v_now timestamptz := clock_timestamp();
            v_members uuid[];
            v_count integer;
            v_me integer;
            v_floor bigint;
            v_changed integer := 0;
            v_rows integer;
        BEGIN
            PERFORM 1 FROM logbook_groups g WHERE g.name = p_group FOR NO KEY UPDATE;
            IF NOT FOUND THEN RETURN; END IF;
            DELETE FROM logbook_group_members m
                WHERE m.group_name = p_group AND (m.expires < v_now OR (m.daemon = p_daemon AND NOT p_wanted));
            GET DIAGNOSTICS v_changed = ROW_COUNT;
            IF p_wanted THEN
                IF NOT EXISTS (SELECT 1 FROM logbook_group_members m WHERE m.group_name = p_group AND m.daemon = p_daemon) THEN
                    v_changed := v_changed + 1;
                END IF;
                INSERT INTO logbook_group_members AS m VALUES (p_group, p_daemon, v_now + p_lease_ms * interval '1 millisecond')
                    ON CONFLICT (group_name, daemon) DO UPDATE SET expires = excluded.expires;
            END IF;
            SELECT array_agg(m.daemon ORDER BY m.daemon) INTO v_members FROM logbook_group_members m WHERE m.group_name = p_group;
            v_count := coalesce(array_length(v_members, 1), 0);
            v_me := coalesce(array_position(v_members, p_daemon), 0) - 1;
            UPDATE logbook_group_partitions p SET owner = NULL, lease_until = NULL
                WHERE p.group_name = p_group AND p.owner = p_daemon AND (v_me < 0 OR p.part % greatest(v_count, 1) <> v_me);
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_changed := v_changed + v_rows;
            IF v_me >= 0 THEN
                UPDATE logbook_group_partitions p
                    SET epoch = CASE WHEN p.owner = p_daemon THEN p.epoch ELSE p.epoch + 1 END,
                        owner = p_daemon,
                        lease_until = v_now + p_lease_ms * interval '1 millisecond'
                    WHERE p.group_name = p_group AND p.part % v_count = v_me
                      AND (p.owner IS NULL OR p.owner = p_daemon OR p.lease_until < v_now);
            END IF;
            IF v_changed > 0 THEN
                PERFORM pg_notify('\(PostgresSchema.groupChannel)', 'm' || p_group);
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
        "DROP FUNCTION logbook_save_group(text, uuid, integer[], bigint[], bigint, bigint[], bigint[], text[], bigint[], bigint[], bigint)",
        // Version 2's save, with the view writes of the acks it settles ('p' put, 'm'
        // merge, 'r' remove) applied in order after the fence. A write to a view that is
        // gone, or is now another group's, is skipped: the ack is still good for the group.
        """
        CREATE FUNCTION logbook_save_group(
            p_group text, p_daemon uuid, p_parts integer[], p_epochs bigint[], p_checkpoint bigint,
            p_settled bigint[], p_parked bigint[], p_reasons text[], p_attempts bigint[], p_unparked bigint[],
            p_time_us bigint, p_views text[], p_keys text[], p_ops text[], p_bodies text[])
        RETURNS bigint
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            v_held integer;
            v_floor bigint;
            v_view text;
            v_id bigint;
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
            FOR i IN 1..coalesce(array_length(p_views, 1), 0) LOOP
                IF v_view IS DISTINCT FROM p_views[i] THEN
                    v_view := p_views[i];
                    v_id := NULL;
                    SELECT v.id INTO v_id FROM logbook_views v WHERE v.name = v_view AND v.group_name = p_group FOR SHARE;
                END IF;
                CONTINUE WHEN v_id IS NULL;
                CASE p_ops[i]
                    WHEN 'p' THEN
                        EXECUTE format('INSERT INTO %I AS t (key, doc) VALUES ($1, $2::jsonb)
                            ON CONFLICT (key) DO UPDATE SET doc = excluded.doc', 'logbook_view_' || v_id)
                            USING p_keys[i], p_bodies[i];
                    WHEN 'm' THEN
                        EXECUTE format('INSERT INTO %I AS t (key, doc) VALUES ($1, logbook_merge_patch(''{}''::jsonb, $2::jsonb))
                            ON CONFLICT (key) DO UPDATE SET doc = logbook_merge_patch(t.doc, $2::jsonb)', 'logbook_view_' || v_id)
                            USING p_keys[i], p_bodies[i];
                    ELSE
                        EXECUTE format('DELETE FROM %I WHERE key = $1', 'logbook_view_' || v_id) USING p_keys[i];
                END CASE;
            END LOOP;
            -- Only a view's readers wait on a shared group's checkpoint, and a NOTIFY takes
            -- a lock every notifying commit of the cluster queues on: groups without views
            -- do without.
            IF EXISTS (SELECT 1 FROM logbook_views v WHERE v.group_name = p_group) THEN
                PERFORM pg_notify('\(PostgresSchema.groupChannel)', 'p' || p_group);
            END IF;
            RETURN (SELECT min(p.checkpoint) FROM logbook_group_partitions p
                WHERE p.group_name = p_group AND p.part = ANY(p_parts));
        END
        $$
        """,
        // A reset: every partition to the checkpoint (the group's initial one when NULL),
        // every epoch raised, the settled positions forgotten, and with p_clear the
        // documents of the group's views. NULL for no such group.
        """
        CREATE FUNCTION logbook_reset_group(p_group text, p_target bigint, p_clear boolean) RETURNS bigint
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            v_checkpoint bigint;
            v_id bigint;
        BEGIN
            SELECT coalesce(p_target, g.initial_checkpoint) INTO v_checkpoint
                FROM logbook_groups g WHERE g.name = p_group FOR NO KEY UPDATE;
            IF NOT FOUND THEN RETURN NULL; END IF;
            UPDATE logbook_group_partitions p SET checkpoint = v_checkpoint, epoch = p.epoch + 1
                WHERE p.group_name = p_group;
            DELETE FROM logbook_group_settled s WHERE s.group_name = p_group;
            IF p_clear THEN
                FOR v_id IN SELECT v.id FROM logbook_views v WHERE v.group_name = p_group ORDER BY v.id FOR SHARE LOOP
                    EXECUTE format('DELETE FROM %I', 'logbook_view_' || v_id);
                END LOOP;
            END IF;
            PERFORM pg_notify('\(PostgresSchema.groupChannel)', 'p' || p_group);
            RETURN v_checkpoint;
        END
        $$
        """,
    ]
}
