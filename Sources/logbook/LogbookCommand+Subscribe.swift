internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine

extension LogbookCommand {
    struct Subscribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow events: the history after --from, then every new event, until interrupted.",
            usage: """
                logbook subscribe STREAM | --all | --category C | --type T [--from start|end|POSITION]
                       logbook subscribe --group NAME [--max-in-flight N] [--confirmed]
                """,
            discussion: """
                Prints each event as read does (with --json, one object per line), flushed per \
                batch. --from is a position in the whole log, exclusive: the first event printed \
                is the one after it. Reconnects by itself when logbookd restarts, with no gap and \
                no duplicate. Runs until SIGINT or SIGTERM (exit 0) or until the server ends the \
                subscription (exit with its status code).
                With --group, joins a persistent subscription group as one consumer and acks \
                each event once it is printed; with --json each event also has "delivery_id" \
                and "attempt". Delivery is at-least-once: events printed but not acked when \
                the connection breaks come again. --confirmed also prints a line per event \
                once logbookd has recorded its ack on disk ({"settled":POSITION,"stream",\
                "revision"} with --json): after that it never comes again. Exits with 5 \
                NOT_FOUND when the group does not exist or is deleted.
                """
        )

        @OptionGroup var global: GlobalOptions

        @OptionGroup var selection: SelectorOptions

        @Option(help: ArgumentHelp("Where to start: start, end, or a position (exclusive).", valueName: "from"))
        var from: FromArgument = .start

        @Option(help: "Join a persistent subscription group as a consumer; acks each event it prints.")
        var group: String?

        @Option(help: ArgumentHelp("With --group: the most un-acked events to hold (default: the group's).", valueName: "n"))
        var maxInFlight: Int?

        @Flag(help: "With --group: print a line for each event whose ack logbookd confirms on disk.")
        var confirmed = false

        func validate() throws {
            let count = self.selection.count
            if self.group != nil {
                guard count == 0 else { throw ValidationError("--group takes no STREAM, --all, --category or --type") }
                if let maxInFlight = self.maxInFlight, maxInFlight <= 0 {
                    throw ValidationError("--max-in-flight must be positive")
                }
                return
            }
            if self.maxInFlight != nil || self.confirmed {
                throw ValidationError("--max-in-flight and --confirmed go with --group")
            }
            switch count {
            case 0: throw ValidationError("say what to follow: STREAM, --all, --category, --type or --group")
            case 1: break
            default: throw ValidationError("give only one of STREAM, --all, --category and --type")
            }
        }

        var start: SubscriptionStart {
            switch self.from {
            case .start: .start
            case .end: .end
            case .number(let position): .after(position: position)
            }
        }

        func run() async throws {
            if let group = self.group {
                try await self.consume(group: group)
                return
            }
            let selector = self.selection.selector
            let start = self.start
            let json = self.global.json
            try await self.global.withClientUntilInterrupted { client in
                var output = StandardOutput()
                defer { output.flush() }
                var messages = client.subscribe(selector, from: start).makeAsyncIterator()
                while let message = try await messages.next() {
                    if let event = message.event {
                        output.write { json ? EventJSON.append(event, to: &$0) : PlainText.append(event, to: &$0) }
                        output.endLine()
                        if !messages.hasBufferedEvents {
                            output.flush()
                        }
                    } else if !json, message.isCaughtUp || message.isFellBehind {
                        output.flush()
                        Terminal.printError("-- \(message) --")
                    }
                }
            }
        }
    }
}
