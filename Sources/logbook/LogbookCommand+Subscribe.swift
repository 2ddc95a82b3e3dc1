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
                       logbook subscribe --group NAME
                """,
            discussion: """
                Prints each event as read does (with --json, one object per line), flushed per \
                batch. --from is a position in the whole log, exclusive: the first event printed \
                is the one after it. Reconnects by itself when logbookd restarts, with no gap and \
                no duplicate. Runs until SIGINT or SIGTERM (exit 0) or until the server ends the \
                subscription (exit with its status code). Persistent groups (--group) are not \
                built yet.
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

        @Option(help: "Join a persistent subscription group (not built yet).")
        var group: String?

        func validate() throws {
            let selectors = [self.stream != nil, self.all, self.category != nil, self.type != nil]
            let count = selectors.filter { $0 }.count
            if self.group != nil {
                guard count == 0 else { throw ValidationError("--group takes no STREAM, --all, --category or --type") }
                return
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
            if self.group != nil {
                Terminal.printError("error: UNIMPLEMENTED: persistent subscription groups are not built yet")
                throw ExitCode.unimplemented
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
        private static func onInterrupt(_ handler: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
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
