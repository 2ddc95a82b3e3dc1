internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine

#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

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
            if let id = self.id, UUID(uuidString: id) == nil {
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
            var metadata: [String: String] = [:]
            for entry in self.meta {
                let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                metadata[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            return AppendInput.Defaults(
                type: self.type,
                metadata: metadata,
                correlationID: self.correlation,
                causationID: self.causation
            )
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
                events[0].id = UUID(uuidString: id) ?? events[0].id
            }
            return events
        }

        private static func dataArgument(_ argument: String) throws -> [UInt8] {
            guard argument.hasPrefix("@") else {
                return Array(argument.utf8)
            }
            let path = String(argument.dropFirst())
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else {
                Terminal.printError("error: cannot read --data file \(path): \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
            defer { close(descriptor) }
            guard let bytes = Self.readAll(descriptor) else {
                Terminal.printError("error: cannot read --data file \(path): \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
            return bytes
        }

        private func eventsFromStandardInput() throws -> [EventData] {
            if isatty(0) != 0 {
                Terminal.printError("reading events as JSON Lines from standard input (end with Ctrl-D)…")
            }
            guard let input = Self.readAll(0) else {
                Terminal.printError("error: cannot read standard input: \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
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

        /// Everything a file descriptor holds until its end, or nil on a read error.
        private static func readAll(_ descriptor: Int32) -> [UInt8]? {
            var input: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count < 0 { return nil }
                if count == 0 { return input }
                input.append(contentsOf: chunk[0..<count])
            }
        }
    }
}
