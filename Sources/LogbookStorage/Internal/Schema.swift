/// The database layout, its version, and the SQL the writer runs.
///
/// Streams, event types and categories are small dictionary tables whose integer ids
/// the events table stores: integer keys make every index entry short, and the writer
/// keeps each dictionary in memory so the append path never looks a name up on disk.
///
/// Indexes the append path needs for its own checks: the primary key (position), the
/// unique (stream, revision) and the unique event id (idempotency, conflicts). The other
/// three serve reads by event type, category and correlation id; the correlation index
/// is partial because most events carry none.
enum Schema {
    /// `PRAGMA user_version` of the layout below. A file with a higher number was
    /// written by a newer Logbook and is refused rather than misread.
    static let version = 1

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
        CREATE TABLE streams (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            category_id INTEGER NOT NULL
        );
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
        CREATE INDEX events_type_position ON events(type_id, position);
        CREATE INDEX events_category_position ON events(category_id, position);
        CREATE INDEX events_correlation_position ON events(correlation_id, position)
            WHERE correlation_id <> '';
        PRAGMA application_id = \(applicationID);
        PRAGMA user_version = \(version);
        """

    enum SQL {
        static let insertEvent = """
            INSERT INTO events (position, stream_id, revision, event_id, type_id, category_id,
                time_us, content_type, data, metadata, correlation_id, causation_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        static let insertStream = "INSERT INTO streams (name, category_id) VALUES (?, ?)"
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
        static let loadEventTypes = "SELECT id, name FROM event_types"
        static let loadCategories = "SELECT id, name FROM categories"
        static let loadHead = "SELECT position, time_us FROM events ORDER BY position DESC LIMIT 1"
    }
}
