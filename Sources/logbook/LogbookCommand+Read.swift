internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine

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

        @OptionGroup var selection: SelectorOptions

        @Option(help: "The events with one correlation id.")
        var correlation: String?

        @Option(help: ArgumentHelp("Where to start: a revision (stream) or position (others), or start or end.", valueName: "n"))
        var from: FromArgument?

        @Flag(help: "Read newest first.")
        var backward = false

        @Option(help: "The most events to print.")
        var limit: Int?

        @OptionGroup var asOf: AsOfOptions

        func validate() throws {
            switch self.selection.count + (self.correlation == nil ? 0 : 1) {
            case 0: throw ValidationError("say what to read: STREAM, --all, --category, --type or --correlation")
            case 1: break
            default: throw ValidationError("give only one of STREAM, --all, --category, --type and --correlation")
            }
            if let limit = self.limit, limit <= 0 {
                throw ValidationError("--limit must be positive")
            }
        }

        func run() async throws {
            let selector = self.correlation.map { .correlationID($0) } ?? self.selection.selector
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
                    asOf: self.asOf.position,
                    asOfTime: self.asOf.time?.date
                )
                for try await event in events {
                    output.write { json ? EventJSON.append(event, to: &$0) : PlainText.append(event, to: &$0) }
                    output.endLine()
                }
            }
        }
    }
}
