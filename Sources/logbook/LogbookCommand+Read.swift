import ArgumentParser
import Logbook

extension LogbookCommand {
    struct Read: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read events of a stream, the whole log, a category, an event type or a correlation id.",
            discussion: """
                --from is a revision when reading a stream, and a position otherwise; it is \
                the first event returned (forwards) or the last (with --backward). \
                With --json, prints one event object per line.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The stream to read.")
        var stream: String?

        @Flag(help: "Read the whole log ($all).")
        var all = false

        @Option(help: "Read the streams of a category (the stream-name part before the first '-').")
        var category: String?

        @Option(help: "Read the events of one type.")
        var type: String?

        @Option(help: "Read the events with one correlation id.")
        var correlation: String?

        @Option(help: ArgumentHelp("Where to start: a revision (stream) or position (others), or start or end.", valueName: "n"))
        var from: FromArgument?

        @Flag(help: "Read newest first.")
        var backward = false

        @Option(help: "The most events to print.")
        var limit: Int?

        @Option(name: .customLong("as-of"), help: ArgumentHelp("Read the log as it was when this was its last position.", valueName: "position"))
        var asOf: UInt64?

        @Option(name: .customLong("as-of-time"), help: ArgumentHelp("Read the log as it was at this RFC 3339 time.", valueName: "time"))
        var asOfTime: TimeArgument?

        func validate() throws {
            if self.asOf != nil, self.asOfTime != nil {
                throw ValidationError("give only one of --as-of and --as-of-time")
            }
            let selectors = [self.stream != nil, self.all, self.category != nil, self.type != nil, self.correlation != nil]
            switch selectors.filter({ $0 }).count {
            case 0:
                throw ValidationError("say what to read: STREAM, --all, --category, --type or --correlation")
            case 1:
                break
            default:
                throw ValidationError("give only one of STREAM, --all, --category, --type and --correlation")
            }
            if let limit = self.limit, limit <= 0 {
                throw ValidationError("--limit must be positive")
            }
        }

        var selector: ReadSelector {
            if let stream = self.stream { return .stream(stream) }
            if let category = self.category { return .category(category) }
            if let type = self.type { return .eventType(type) }
            if let correlation = self.correlation { return .correlationID(correlation) }
            return .all
        }

        func run() async throws {
            let selector = self.selector
            let from: ReadPosition? =
                switch self.from {
                case .start?: .start
                case .end?: .end
                case .number(let number)?: selector.isStream ? .revision(number) : .position(number)
                case nil: nil
                }
            let json = self.global.json
            var output = StandardOutput()
            defer { output.flush() }
            try await self.global.withClient { client in
                let events = client.read(
                    selector,
                    from: from,
                    direction: self.backward ? .backwards : .forwards,
                    limit: self.limit,
                    asOf: self.asOf,
                    asOfTime: self.asOfTime?.date
                )
                for try await event in events {
                    if json {
                        output.write { EventJSON.append(event, to: &$0) }
                    } else {
                        output.write { Self.appendHuman(event, to: &$0) }
                    }
                    output.endLine()
                }
            }
        }

        /// One readable line: `#position stream@revision time type data`.
        static func appendHuman(_ event: RecordedEvent, to out: inout [UInt8]) {
            out.append(UInt8(ascii: "#"))
            JSON.appendInteger(event.position, to: &out)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: event.stream.utf8)
            out.append(UInt8(ascii: "@"))
            JSON.appendInteger(event.revision, to: &out)
            out.append(UInt8(ascii: " "))
            RFC3339.append(unixMicros: event.timeUnixMicros, to: &out)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: event.type.utf8)
            out.append(UInt8(ascii: " "))
            if event.isJSON, JSON.isValid(event.data) {
                JSON.appendCompact(event.data, to: &out)
            } else if event.contentType.hasPrefix("text/"), let text = String(validating: event.data, as: UTF8.self),
                !text.contains(where: \.isNewline)
            {
                out.append(contentsOf: text.utf8)
            } else {
                out.append(contentsOf: "<\(event.data.count) bytes of \(event.contentType)>".utf8)
            }
            if let correlation = event.correlationID {
                out.append(contentsOf: " correlation=\(correlation)".utf8)
            }
        }
    }
}

/// `--from`: a number, `start` or `end`.
enum FromArgument: ExpressibleByArgument {
    case start
    case end
    case number(UInt64)

    init?(argument: String) {
        switch argument.lowercased() {
        case "start": self = .start
        case "end": self = .end
        default:
            guard let number = UInt64(argument) else { return nil }
            self = .number(number)
        }
    }
}
