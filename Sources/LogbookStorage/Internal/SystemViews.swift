internal import GRDB

/// The read-only views the store computes from the log, as `ViewSource`s of
/// `(key, doc)` rows, so queries over them work exactly like queries over user views.
///
/// Both see the events at or below `bound` only: the published head, or an earlier
/// position for time travel.
package enum SystemViews {
    package static let streams = "$streams"
    package static let eventTypes = "$event_types"

    /// Key: the stream's name; doc: `name`, `last_revision`, `event_count`,
    /// `first_position`, `last_position`, `first_time`, `last_time`; for a stream with
    /// lifecycle rules also `deleted` and `tombstoned`. The count and positions are of the events the
    /// log holds, hidden ones included, until a scavenge removes them.
    ///
    /// A stream's first and last visible events come from the (stream, revision) index:
    /// its first entry, and its last entry at or below `bound` (the index holds the
    /// position, so entries above `bound` are skipped without reading `events`). At the
    /// head that is one index step per stream; a stream's revisions are contiguous from 0
    /// in position order, so its count is the difference of revisions plus one.
    static func streams(bound: UInt64) -> ViewSource {
        let bound = Int64(clamping: bound)
        return ViewSource(
            with: """
                WITH s AS (
                    SELECT st.name AS name, st.lookup_key AS lookup_key,
                        (SELECT e.position FROM events AS e WHERE e.stream_id = st.id AND e.position <= ?
                            ORDER BY e.revision LIMIT 1) AS first_position,
                        (SELECT e.position FROM events AS e WHERE e.stream_id = st.id AND e.position <= ?
                            ORDER BY e.revision DESC LIMIT 1) AS last_position
                    FROM streams AS st
                ), v(key, doc) AS (
                    SELECT s.name, json_patch(json_object(
                        'name', s.name, 'last_revision', l.revision, 'event_count', l.revision - f.revision + 1,
                        'first_position', f.position, 'last_position', l.position,
                        'first_time', \(rfc3339("f.time_us")), 'last_time', \(rfc3339("l.time_us"))),
                        CASE WHEN lc.lookup_key IS NULL THEN '{}' ELSE json_object(
                            'deleted', json(CASE WHEN lc.tombstoned = 1 OR (lc.deleted = 1 AND l.revision < lc.truncate_before)
                                THEN 'true' ELSE 'false' END),
                            'tombstoned', json(CASE WHEN lc.tombstoned = 1 THEN 'true' ELSE 'false' END)) END)
                    FROM s
                    JOIN events AS f ON f.position = s.first_position
                    JOIN events AS l ON l.position = s.last_position
                    LEFT JOIN stream_lifecycle AS lc ON lc.lookup_key = s.lookup_key
                )
                """,
            arguments: [bound.databaseValue, bound.databaseValue],
            table: "v")
    }

    /// Key: the type's name; doc: `name`, `event_count`, `first_position`,
    /// `last_position`. Counted from the narrow `events_by_type` table up to where it
    /// reaches, and from `events` for the rest.
    static func eventTypes(bound: UInt64, indexedUpTo: UInt64) -> ViewSource {
        let indexed = Int64(clamping: min(indexedUpTo, bound))
        return ViewSource(
            with: """
                WITH c(type_id, position) AS (
                    SELECT type_id, position FROM events_by_type WHERE position <= ?
                    UNION ALL
                    SELECT type_id, position FROM events WHERE position > ? AND position <= ?
                ), a AS (
                    SELECT type_id, COUNT(*) AS n, MIN(position) AS first, MAX(position) AS last
                    FROM c GROUP BY type_id
                ), v(key, doc) AS (
                    SELECT t.name, json_object(
                        'name', t.name, 'event_count', a.n, 'first_position', a.first, 'last_position', a.last)
                    FROM a JOIN event_types AS t ON t.id = a.type_id
                )
                """,
            arguments: [indexed.databaseValue, indexed.databaseValue, Int64(clamping: bound).databaseValue],
            table: "v")
    }

    /// Rows the caller made, bound as one JSON array of `[key, document]` pairs (the
    /// document as a JSON string, so a malformed one cannot break the array).
    static func rows(_ json: String) -> ViewSource {
        ViewSource(
            with: "WITH v(key, doc) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))",
            arguments: [json.databaseValue],
            table: "v")
    }

    /// Unix microseconds as RFC 3339 UTC with microseconds, "2026-11-26T21:45:54.123456Z".
    private static func rfc3339(_ micros: String) -> String {
        """
        strftime('%Y-%m-%dT%H:%M:%S', \(micros) / 1000000, 'unixepoch') || '.' || printf('%06d', \(micros) % 1000000) || 'Z'
        """
    }
}
