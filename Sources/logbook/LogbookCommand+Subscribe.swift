import ArgumentParser
import Dispatch
import Logbook

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

        @Argument(help: "The stream to follow.")
        var stream: String?

        @Flag(help: "Follow the whole log ($all).")
        var all = false

        @Option(help: "Follow the streams of a category (the stream-name part before the first '-').")
        var category: String?

        @Option(help: "Follow the events of one type.")
        var type: String?

        @Option(help: ArgumentHelp("Where to start: start, end, or a position (exclusive).", valueName: "from"))
        var from: FromArgument = .start

        @Option(help: "Join a persistent subscription group as a consumer; acks each event it prints.")
        var group: String?

        @Option(help: ArgumentHelp("With --group: the most un-acked events to hold (default: the group's).", valueName: "n"))
        var maxInFlight: Int?

        @Flag(help: "With --group: print a line for each event whose ack logbookd confirms on disk.")
        var confirmed = false

        func validate() throws {
            let selectors = [self.stream != nil, self.all, self.category != nil, self.type != nil]
            let count = selectors.filter { $0 }.count
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

        var selector: ReadSelector {
            if let stream = self.stream { return .stream(stream) }
            if let category = self.category { return .category(category) }
            if let type = self.type { return .eventType(type) }
            return .all
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
            let selector = self.selector
            let start = self.start
            let global = self.global
            // The whole run is one task, so SIGINT or SIGTERM ends it cleanly (Cancel on the
            // wire, output flushed, exit 0) at any point, even while connecting.
            let follow = Task {
                try await global.withClient { client in
                    var output = StandardOutput()
                    defer { output.flush() }
                    var messages = client.subscribe(selector, from: start).makeAsyncIterator()
                    do {
                        while let message = try await messages.next() {
                            if let event = message.event {
                                if global.json {
                                    output.write { EventJSON.append(event, to: &$0) }
                                } else {
                                    output.write { Read.appendHuman(event, to: &$0) }
                                }
                                output.endLine()
                                if !messages.hasBufferedEvents {
                                    output.flush()
                                }
                            } else if !global.json, message.isCaughtUp || message.isFellBehind {
                                output.flush()
                                Terminal.printError("-- \(message) --")
                            }
                        }
                    } catch is CancellationError {
                        // Interrupted: a normal end.
                    }
                }
            }
            let signals = Self.onInterrupt {
                follow.cancel()
                // A reader that stopped reading leaves a write to stdout blocked for ever; the
                // signal still ends the process.
                DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(2)) { _exit(0) }
            }
            defer { signals.forEach { $0.cancel() } }
            try await follow.value
        }

        /// Calls `handler` on SIGINT or SIGTERM instead of dying of it.
        static func onInterrupt(_ handler: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
            [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler(handler: handler)
                source.resume()
                return source
            }
        }
    }
}
