internal import Foundation
package import PostgresNIO

/// Where a PostgreSQL store lives, from a libpq-style URL (`--store`).
///
/// ```
/// postgresql://[user[:password]@][host][:port][/database][?key=value&…]
/// ```
/// `host`, `port`, `user`, `password` and `dbname` may also be given as query keys, as
/// libpq allows; a host that starts with `/` is the directory of a Unix socket
/// (`postgresql:///logbook?host=/var/run/postgresql`). Percent-escapes are decoded.
/// `sslmode` may be `disable` or `prefer` (no TLS is used); anything that needs TLS is
/// refused rather than silently sent in the clear.
package struct PostgresURL: Sendable, Equatable {
    package var host: String
    package var port: Int
    package var user: String
    package var password: String?
    package var database: String

    /// Whether `text` is meant for this store (rather than a data directory).
    package static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    init(host: String, port: Int, user: String, password: String?, database: String) {
        (self.host, self.port, self.user, self.password, self.database) = (host, port, user, password, database)
    }

    package init(_ text: String) throws(PostgresURLError) {
        guard let schemeEnd = text.range(of: "://"), Self.isPostgres(text) else {
            throw PostgresURLError("'\(text)' is not a postgresql:// URL")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var userInfo: Substring?
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        var values: [String: String] = [:]
        if let userInfo {
            let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            values["user"] = try Self.decode(parts[0])
            if parts.count > 1 { values["password"] = try Self.decode(parts[1]) }
        }
        if !rest.isEmpty {
            let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            values["host"] = try Self.decode(parts[0])
            if parts.count > 1 { values["port"] = try Self.decode(parts[1]) }
        }
        if !path.isEmpty { values["dbname"] = try Self.decode(path) }
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw PostgresURLError("'\(pair)' in '\(text)' is not key=value") }
            values[try Self.decode(parts[0])] = try Self.decode(parts[1])
        }
        try self.init(values, url: text)
    }

    private init(_ values: [String: String], url: String) throws(PostgresURLError) {
        let known: Set = ["host", "port", "user", "password", "dbname", "sslmode", "application_name"]
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw PostgresURLError("'\(unknown)' in '\(url)' is not a parameter logbookd knows")
        }
        if let mode = values["sslmode"], mode != "disable", mode != "prefer" {
            throw PostgresURLError("sslmode=\(mode) in '\(url)': logbookd speaks to PostgreSQL without TLS (use a Unix socket or a trusted network)")
        }
        host = values["host"].flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        guard let port = Int(values["port"] ?? "5432"), (1...65_535).contains(port) else {
            throw PostgresURLError("the port in '\(url)' is not a number from 1 to 65535")
        }
        self.port = port
        user = values["user"].flatMap { $0.isEmpty ? nil : $0 } ?? "postgres"
        password = values["password"]
        database = values["dbname"].flatMap { $0.isEmpty ? nil : $0 } ?? user
    }

    /// The URL as logs may show it: without the password.
    package var redacted: String {
        "postgresql://\(user)@\(host.hasPrefix("/") ? "" : host):\(port)/\(database)"
            + (host.hasPrefix("/") ? "?host=\(host)" : "")
    }

    /// The settings of a connection to this place.
    package var connectionConfiguration: PostgresConnection.Configuration {
        if host.hasPrefix("/") {
            return PostgresConnection.Configuration(
                unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: .disable)
    }

    private static func decode(_ text: Substring) throws(PostgresURLError) -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            throw PostgresURLError("'\(text)' has a malformed percent-escape")
        }
        return decoded
    }
}

/// A `--store` URL that cannot be used, and why.
package struct PostgresURLError: Error, CustomStringConvertible {
    package var description: String

    init(_ description: String) {
        self.description = description
    }
}
