internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine

extension LogbookCommand {
    /// `logbook streams …`: list streams, and delete or bound one (stream lifecycle).
    struct Streams: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List streams, delete one, or set the bounds that hide its older events.",
            subcommands: [List.self, Info.self, Delete.self, SetMeta.self],
            defaultSubcommand: List.self
        )
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

extension LogbookCommand.Streams {
    struct List: AsyncParsableCommand {
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

        @OptionGroup var asOf: AsOfOptions

        func validate() throws {
            if let position = self.asOf.position, position == 0 {
                throw ValidationError("--as-of must be a position, 1 or more")
            }
        }

        /// The members of a `$streams` document, in the table's order, with their headings.
        static let columns: [(member: String, heading: String)] = [
            ("name", "STREAM"), ("last_revision", "REVISION"), ("event_count", "EVENTS"),
            ("first_position", "FIRST"), ("last_position", "LAST"), ("first_time", "FIRST TIME"),
            ("last_time", "LAST TIME"), ("deleted", "DELETED"),
        ]

        /// Rows per page while following the cursors.
        static let pageRows = 1000

        func run() async throws {
            var query = ViewQuery("$streams", keys: self.prefix.map { .prefix($0) } ?? .all, limit: Self.pageRows)
            if let position = self.asOf.position { query.asOf = .position(position) }
            if let time = self.asOf.time { query.asOf = .time(time.date) }
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
            if !json {
                output.table(rows, empty: "no streams")
            }
        }
    }
}
