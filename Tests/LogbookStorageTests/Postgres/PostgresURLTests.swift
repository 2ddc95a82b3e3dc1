@testable internal import LogbookPostgres
internal import Testing

/// `--store` URLs, in the forms libpq takes.
@Suite struct PostgresURLTests {
    @Test func aUnixSocketDirectoryInTheQuery() throws {
        let url = try PostgresURL("postgresql:///logbook?host=/var/run/postgresql&user=app")
        #expect(url == PostgresURL(host: "/var/run/postgresql", port: 5432, user: "app", password: nil, database: "logbook"))
        #expect(url.redacted == "postgresql://app@:5432/logbook?host=/var/run/postgresql")
    }

    @Test func hostPortUserPasswordAndDatabase() throws {
        let url = try PostgresURL("postgres://app:s%40cret@db.example:6543/events")
        #expect(url == PostgresURL(host: "db.example", port: 6543, user: "app", password: "s@cret", database: "events"))
        #expect(!url.redacted.contains("cret"))
    }

    @Test func defaultsAreLibpqs() throws {
        let url = try PostgresURL("postgresql://")
        #expect(url == PostgresURL(host: "localhost", port: 5432, user: "postgres", password: nil, database: "postgres"))
    }

    @Test(arguments: [
        "postgresql://h:99999/db",
        "postgresql://h/db?sslmode=require",
        "postgresql://h/db?colour=blue",
        "postgresql://h/db?user",
        "mysql://h/db",
        "postgresql://h/d%zz",
    ])
    func malformedURLsAreRefused(_ text: String) {
        #expect(throws: PostgresURLError.self) { try PostgresURL(text) }
    }
}
