internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine

extension LogbookCommand {
    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Query a view or a system view ($streams, $event_types, $groups, $stats).",
            discussion: """
                Prints KEY<TAB>JSON per row; with --json one object {"key","doc"} per row. \
                Writes "as of position N" to stderr: the position the answer reflects (the \
                view's group checkpoint). Without --limit, follows cursors and prints every \
                row; with it, prints the first page of that many rows.
                --where 'PATH OP VALUE' (repeatable, all must hold): OP is =, !=, <, <=, >, >=, \
                prefix or in; VALUE is a JSON literal (42, "a b", true, null) or a bare word \
                taken as a string; in takes a JSON array: --where '$.status in ["open","paid"]'. \
                A malformed --where exits with 3 (INVALID_ARGUMENT).
                --min-position P waits (up to --wait, default \(Self.defaultWaitMilliseconds) ms) until \
                the view has processed every event up to position P, e.g. the position an \
                append printed, so the answer reflects that append; else exits with 4 \
                (DEADLINE_EXCEEDED).
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The view's name, or a system view.")
        var view: String

        @Option(help: "Only the row with this key.")
        var key: String?

        @Option(help: "Only the rows whose key starts with this.")
        var prefix: String?

        @Option(name: .customLong("where"), help: ArgumentHelp("A condition 'PATH OP VALUE' (repeatable).", valueName: "condition"))
        var conditions: [String] = []

        @Option(name: .customLong("order-by"), help: ArgumentHelp("A JSON path to order by (default: the key).", valueName: "path"))
        var orderBy: String?

        @Flag(help: "Order descending (with --order-by).")
        var desc = false

        @Option(help: "Print only the first page, of this many rows (1…\(ViewQuery.limitMax)).")
        var limit: Int?

        @Option(name: .customLong("min-position"), help: ArgumentHelp("Wait until the view has processed this position.", valueName: "position"))
        var minPosition: UInt64?

        @Option(help: ArgumentHelp("Milliseconds --min-position may wait (default \(Self.defaultWaitMilliseconds)).", valueName: "ms"))
        var wait: UInt32?

        func validate() throws {
            if self.key != nil, self.prefix != nil { throw ValidationError("give only one of --key and --prefix") }
            if self.desc, self.orderBy == nil { throw ValidationError("--desc goes with --order-by") }
            if self.wait != nil, self.minPosition == nil { throw ValidationError("--wait goes with --min-position") }
            if let limit = self.limit, !(1...ViewQuery.limitMax).contains(limit) {
                throw ValidationError("--limit must be 1…\(ViewQuery.limitMax)")
            }
        }

        /// The wait of a query with a minimum position and no `--wait`: the library's.
        static var defaultWaitMilliseconds: UInt64 {
            ViewQuery.defaultWait.roundedUpMilliseconds
        }

        func run() async throws {
            var predicates: [QueryPredicate] = []
            for condition in self.conditions {
                do {
                    predicates.append(try QueryPredicate(parsing: condition))
                } catch {
                    Terminal.printError("error: INVALID_ARGUMENT: \(error.message)")
                    throw ExitCode(Int32(LogbookError.Code.invalidArgument.rawValue))
                }
            }
            let keys: ViewQuery.Keys =
                if let key = self.key { .key(key) } else if let prefix = self.prefix { .prefix(prefix) } else { .all }
            let query = ViewQuery(
                self.view, keys: keys, where: predicates, orderBy: self.orderBy, descending: self.desc, limit: self.limit,
                minPosition: self.minPosition, wait: self.wait.map { .milliseconds($0) }
            )
            let (json, followCursors) = (self.global.json, self.limit == nil)
            var output = StandardOutput()
            defer { output.flush() }
            let asOf = try await self.global.withClient { client -> UInt64? in
                var asOf: UInt64?
                for try await page in client.pages(query) {
                    if asOf == nil { asOf = page.asOfPosition }
                    for row in page.rows {
                        output.write { out in
                            if json {
                                ViewJSON.append(row, to: &out)
                            } else {
                                out.append(contentsOf: row.key.utf8)
                                out.append(UInt8(ascii: "\t"))
                                JSON.appendCompact(row.json.utf8, to: &out)
                            }
                        }
                        output.endLine()
                    }
                    if !followCursors { break }
                }
                return asOf
            }
            output.flush()
            if let asOf { Terminal.printError("as of position \(asOf)") }
        }
    }
}
