-- A Message DB-style store for the PostgreSQL benchmark's peer: one table, and an append
-- as a stored function that locks the stream's category (a transaction-scoped advisory
-- lock), reads the stream's version, checks the expected one and inserts the message,
-- which a sequence numbers globally. Written from Message DB's documented design
-- (message-db.eventide-project.org), not from its code.
CREATE TABLE messages (
    global_position bigserial PRIMARY KEY,
    position bigint NOT NULL,
    time timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    stream_name text NOT NULL,
    type text NOT NULL,
    data jsonb,
    metadata jsonb,
    id uuid NOT NULL DEFAULT gen_random_uuid()
);
CREATE UNIQUE INDEX messages_id ON messages (id);
CREATE UNIQUE INDEX messages_stream ON messages (stream_name, position);
CREATE INDEX messages_category ON messages (split_part(stream_name, '-', 1), global_position);

CREATE FUNCTION write_message(
    id varchar, stream_name varchar, type varchar, data jsonb,
    metadata jsonb DEFAULT NULL, expected_version bigint DEFAULT NULL
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    version bigint;
    next_position bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(split_part(write_message.stream_name, '-', 1)));
    SELECT max(m.position) INTO version FROM messages m WHERE m.stream_name = write_message.stream_name;
    IF expected_version IS NOT NULL AND expected_version IS DISTINCT FROM coalesce(version, -1) THEN
        RAISE EXCEPTION 'Wrong expected version: % (stream: %, stream version: %)',
            expected_version, write_message.stream_name, coalesce(version, -1);
    END IF;
    next_position := coalesce(version, -1) + 1;
    INSERT INTO messages (id, stream_name, position, type, data, metadata)
    VALUES (write_message.id::uuid, write_message.stream_name, next_position, write_message.type,
            write_message.data, write_message.metadata);
    RETURN next_position;
END;
$$;
