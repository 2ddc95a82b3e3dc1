internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine

extension LogbookCommand {
    struct Append: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append events to a stream.",
            discussion: """
                With --type and --data, appends one event. Without --data, reads JSON Lines \
                from standard input and appends them as one batch: each line is an event \
                object {"type", "data", "id"?, "metadata"?, "correlation_id"?, "causation_id"?, \
                "content_type"?} (data in base64 for a content type that is not JSON, as read \
                --json prints it), or, with --type, the JSON data of an event of that type.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The stream to append to, e.g. order-42.")
        var stream: String

        @Option(help: "The event's type.")
        var type: String?

        @Option(help: ArgumentHelp("The event's data: JSON, or @FILE to read it from a file.", valueName: "json"))
        var data: String?

        @Option(help: ArgumentHelp("What the stream must look like first: any, no-stream, exists, or its last revision.", valueName: "expectation"))
        var expect: ExpectArgument = .init(.any)

        @Option(help: "The event's id (a UUID; default: a new UUIDv7).")
        var id: String?

        @Option(help: "The correlation id of the event(s).")
        var correlation: String?

        @Option(help: "The causation id of the event(s).")
        var causation: String?

        @Option(help: ArgumentHelp("Metadata of the event(s); repeat for more.", valueName: "key=value"))
        var meta: [String] = []

        func validate() throws {
            if self.data != nil, self.type == nil {
                throw ValidationError("--data needs --type: an event has a type")
            }
            if let id = self.id, AppendInput.eventID(id) == nil {
                throw ValidationError("--id is not a UUID: \(id)")
            }
            for entry in self.meta where !entry.contains("=") {
                throw ValidationError("--meta takes KEY=VALUE, not \(entry)")
            }
        }

        func run() async throws {
            let events = try self.events()
            let result = try await self.global.withClient { client in
                try await client.append(to: self.stream, expected: self.expect.value, events: events)
            }
            self.global.print({ EventJSON.append(result, to: &$0) }, orLine: PlainText.describe(result))
        }

        private var defaults: AppendInput.Defaults {
            var defaults = AppendInput.Defaults(type: self.type)
            for entry in self.meta {
                let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                defaults.metadata[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            defaults.correlationID = self.correlation
            defaults.causationID = self.causation
            return defaults
        }

        /// The events to append, from `--data` or from standard input; a usage error
        /// (exit 64) for input that is not valid JSON.
        private func events() throws -> [EventData] {
            var events: [EventData]
            if let data = self.data {
                let bytes = try Self.dataArgument(data)
                do {
                    try JSON.validate(bytes)
                } catch {
                    throw usageError("--data is not valid JSON: \(error)")
                }
                events = [
                    EventData(
                        type: self.type ?? "",
                        data: bytes,
                        contentType: ContentType.json,
                        metadata: self.defaults.metadata,
                        correlationID: self.correlation,
                        causationID: self.causation
                    )
                ]
            } else {
                events = try self.eventsFromStandardInput()
            }
            if let id = self.id {
                guard events.count == 1 else {
                    throw usageError("--id names one event, but standard input held \(events.count)")
                }
                events[0].id = AppendInput.eventID(id) ?? events[0].id
            }
            return events
        }

        private static func dataArgument(_ argument: String) throws -> [UInt8] {
            guard argument.hasPrefix("@") else {
                return Array(argument.utf8)
            }
            let path = String(argument.dropFirst())
            return try Self.readAll(path, what: "--data file \(path)")
        }

        private func eventsFromStandardInput() throws -> [EventData] {
            if System.standardInputIsTerminal {
                Terminal.printError("reading events as JSON Lines from standard input (end with Ctrl-D)…")
            }
            let input = try Self.readAll(nil, what: "standard input")
            let defaults = self.defaults
            var events: [EventData] = []
            var lineNumber = 0
            for line in input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                lineNumber += 1
                guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") && $0 != UInt8(ascii: "\r") }) else {
                    continue
                }
                do {
                    events.append(try AppendInput.event(line: Array(line), defaults: defaults))
                } catch {
                    throw usageError("standard input line \(lineNumber): \(error.message)")
                }
            }
            guard !events.isEmpty else {
                throw usageError("no events: give --type and --data, or JSON Lines on standard input")
            }
            return events
        }

        /// What the file at `path` (standard input for nil) holds; a local error (exit 1)
        /// when it cannot be read.
        private static func readAll(_ path: String?, what: String) throws -> [UInt8] {
            switch System.readAll(path) {
            case .success(let bytes):
                return bytes
            case .failure(let error):
                Terminal.printError("error: cannot read \(what): \(error)")
                throw ExitCode(1)
            }
        }
    }
}
