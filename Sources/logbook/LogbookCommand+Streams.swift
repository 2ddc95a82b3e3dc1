import ArgumentParser
import Logbook
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension LogbookCommand {
    struct Streams: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List streams: last revision, event count, first and last position and time.",
            discussion: """
                Reads the $streams system view. --as-of and --as-of-time show the log as it \
                was at a position or a time (RFC 3339, e.g. 2024-05-01T12:00:00Z). With \
                --json, prints each stream's document, one per line.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "Only the streams whose name starts with this.")
        var prefix: String?

        @Option(name: .customLong("as-of"), help: ArgumentHelp("The log as it was when this was its last position.", valueName: "position"))
        var asOf: UInt64?

        @Option(name: .customLong("as-of-time"), help: ArgumentHelp("The log as it was at this RFC 3339 time.", valueName: "time"))
        var asOfTime: TimeArgument?

        func validate() throws {
            if self.asOf != nil, self.asOfTime != nil { throw ValidationError("give only one of --as-of and --as-of-time") }
            if let asOf = self.asOf, asOf == 0 { throw ValidationError("--as-of must be a position, 1 or more") }
        }

        /// The members of a `$streams` document, in the table's order, with their headings.
        static let columns: [(member: String, heading: String)] = [
            ("name", "STREAM"), ("last_revision", "REVISION"), ("event_count", "EVENTS"),
            ("first_position", "FIRST"), ("last_position", "LAST"), ("first_time", "FIRST TIME"),
            ("last_time", "LAST TIME"),
        ]

        func run() async throws {
            var query = ViewQuery("$streams", keys: self.prefix.map { .prefix($0) } ?? .all, limit: 1000)
            if let asOf = self.asOf { query.asOf = .position(asOf) }
            if let time = self.asOfTime { query.asOf = .time(time.date) }
            let json = self.global.json
            var output = StandardOutput()
            defer { output.flush() }
            var rows: [[String]] = [Self.columns.map(\.heading)]
            try await self.global.withClient { client in
                for try await row in client.rows(query) {
                    if json {
                        output.write { JSON.appendCompact(row.json.utf8, to: &$0) }
                        output.endLine()
                        continue
                    }
                    let members = Dictionary(DocumentJSON.members(row.json) ?? [], uniquingKeysWith: { first, _ in first })
                    rows.append(Self.columns.map { column in
                        if column.member == "name", members["name"] == nil { return row.key }
                        return members[column.member].map(DocumentJSON.plain) ?? "-"
                    })
                }
            }
            guard !json else { return }
            if rows.count == 1 {
                output.line("no streams")
                return
            }
            for line in GroupOutput.table(rows) {
                output.line(line)
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the daemon's statistics: appends, events, bytes, connections, uptime, head position.",
            discussion: "Reads the $stats system view: one 'name: value' line each; with --json the document."
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let page = try await self.global.withClient { try await $0.query(ViewQuery("$stats")) }
            var output = StandardOutput()
            defer { output.flush() }
            for row in page.rows {
                if self.global.json {
                    output.write { JSON.appendCompact(row.json.utf8, to: &$0) }
                    output.endLine()
                    continue
                }
                guard let members = DocumentJSON.members(row.json) else {
                    output.line(row.json)
                    continue
                }
                for (name, value) in members {
                    output.line("\(name): \(DocumentJSON.plain(value))")
                }
            }
        }
    }
}

/// An RFC 3339 time argument, e.g. `2024-05-01T12:00:00Z` or `2024-05-01T14:00:00.5+02:00`.
struct TimeArgument: ExpressibleByArgument {
    let unixMicros: Int64

    init?(argument: String) {
        guard let micros = RFC3339.parse(argument) else { return nil }
        self.unixMicros = micros
    }

    var date: Date {
        Date(timeIntervalSince1970: Double(self.unixMicros) / 1_000_000)
    }

    static var defaultValueDescription: String { "an RFC 3339 time" }
}
