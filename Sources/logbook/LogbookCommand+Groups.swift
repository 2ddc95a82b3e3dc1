internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine

extension LogbookCommand {
    /// `logbook groups …`: the Admin calls about persistent subscription groups.
    struct Groups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage persistent subscription groups.",
            subcommands: [Create.self, List.self, Info.self, Delete.self, Reset.self, Parked.self, ReplayParked.self]
        )

        @OptionGroup var global: GlobalOptions
    }
}

extension LogbookCommand.Groups {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a group over a stream, the whole log, a category or an event type.",
            discussion: """
                --from is the first position the group delivers (default: start). Unset \
                settings take the server's defaults, shown with each option. A nacked or \
                timed-out event waits \(PlainText.duration(GroupSettings.defaultRetryBackoff)) \
                before it is delivered again, twice as long after each further attempt.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The group's name.")
        var name: String

        @OptionGroup var selection: SelectorOptions

        @Option(help: ArgumentHelp("How consumers share deliveries (default \(GroupSettings.defaultStrategy)).", valueName: "strategy"))
        var strategy: StrategyArgument?

        @Option(help: ArgumentHelp("Where the group begins: start, end, or the first position to deliver.", valueName: "from"))
        var from: FromArgument?

        @Option(name: .customLong("max-deliveries"), help: ArgumentHelp(
            "Deliveries before an event is parked (default \(GroupSettings.defaultMaxDeliveries)).",
            valueName: "n"
        ))
        var maxDeliveries: Int?

        @Option(name: .customLong("ack-timeout"), help: ArgumentHelp(
            "Seconds a delivery may stay un-acked (default \(PlainText.duration(GroupSettings.defaultAckTimeout))).",
            valueName: "seconds"
        ))
        var ackTimeout: Double?

        @Option(name: .customLong("max-in-flight"), help: ArgumentHelp(
            "Un-acked deliveries per consumer (default \(GroupSettings.defaultMaxInFlight)).",
            valueName: "n"
        ))
        var maxInFlight: Int?

        func validate() throws {
            switch self.selection.count {
            case 0: throw ValidationError("say what the group delivers: STREAM, --all, --category or --type")
            case 1: break
            default: throw ValidationError("give only one of STREAM, --all, --category and --type")
            }
            if let maxDeliveries = self.maxDeliveries, maxDeliveries <= 0 {
                throw ValidationError("--max-deliveries must be positive")
            }
            if let maxInFlight = self.maxInFlight, maxInFlight <= 0 {
                throw ValidationError("--max-in-flight must be positive")
            }
            if let ackTimeout = self.ackTimeout, !(ackTimeout > 0 && ackTimeout <= Double(UInt32.max) / 1000) {
                throw ValidationError("--ack-timeout must be a positive number of seconds")
            }
        }

        var settings: GroupSettings {
            var settings = GroupSettings(name: self.name, selector: self.selection.selector)
            switch self.from {
            case .start?, nil: settings.start = .start
            case .end?: settings.start = .end
            case .number(let position)?: settings.start = .position(position)
            }
            if let strategy = self.strategy { settings.strategy = strategy.strategy }
            if let maxDeliveries = self.maxDeliveries { settings.maxDeliveries = maxDeliveries }
            if let maxInFlight = self.maxInFlight { settings.maxInFlight = maxInFlight }
            if let ackTimeout = self.ackTimeout { settings.ackTimeout = .milliseconds(ackTimeout * 1000) }
            return settings
        }

        func run() async throws {
            let settings = self.settings
            let info = try await self.global.withClient { try await $0.createGroup(settings) }
            self.global.print({ GroupJSON.append(info, to: &$0) }, orLine: "created group \(PlainText.summary(info))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the groups: one line each, or with --json one object each."
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let groups = try await self.global.withClient { try await $0.groups() }
            self.global.print(groups, object: GroupJSON.append, orTable: PlainText.table(groups), empty: "no groups")
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a group's settings, checkpoint, lag, consumers, in-flight and parked counts."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The group's name.")
        var name: String

        func run() async throws {
            let name = self.name
            let info = try await self.global.withClient { try await $0.groupInfo(name) }
            self.global.print({ GroupJSON.append(info, to: &$0) }, orLines: PlainText.table(PlainText.details(info)))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a group with its checkpoint and parked events; its consumers are disconnected."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The group's name.")
        var name: String

        func run() async throws {
            let name = self.name
            try await self.global.withClient { try await $0.deleteGroup(name) }
            self.global.print({ ViewJSON.appendRemoved(name, done: "deleted", to: &$0) }, orLine: "deleted group \(name)")
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a group's checkpoint: every event after it is delivered again.",
            discussion: """
                Without --to, the group goes back to its start. --clear-views also empties the \
                views the group writes, so that its projection workers rebuild them from the log.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The group's name.")
        var name: String

        @Option(help: ArgumentHelp("The new checkpoint: the last position counted as settled.", valueName: "position"))
        var to: UInt64?

        @Flag(name: .customLong("clear-views"), help: "Also empty the views the group writes.")
        var clearViews = false

        func run() async throws {
            let (name, position, clearViews) = (self.name, self.to, self.clearViews)
            let info = try await self.global.withClient { try await $0.resetGroup(name, to: position, clearViews: clearViews) }
            self.global.print(
                { GroupJSON.append(info, to: &$0) },
                orLine: "reset group \(info.name): checkpoint \(info.checkpoint), lag \(info.lag)"
            )
        }
    }

    struct Parked: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a group's parked events.",
            discussion: """
                One line each: #position stream@revision type attempts=N reason. With --json, \
                one object each: the event as read --json prints it, plus reason, attempts \
                and parked_at.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The group's name.")
        var name: String

        func run() async throws {
            let (name, json) = (self.name, self.global.json)
            var output = StandardOutput()
            defer { output.flush() }
            try await self.global.withClient { client in
                // Page by position, so that a long parked list never sits in memory whole.
                var after: UInt64 = 0
                while true {
                    let page = try await client.parkedEvents(in: name, after: after)
                    guard let last = page.last else { break }
                    for parked in page {
                        output.write { json ? GroupJSON.append(parked, to: &$0) : PlainText.append(parked, to: &$0) }
                        output.endLine()
                    }
                    after = last.event.position
                }
            }
        }
    }

    struct ReplayParked: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay-parked",
            abstract: "Deliver a group's parked events again, in position order.",
            discussion: "Returns once the replay has started; `groups info` shows the parked count fall."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The group's name.")
        var name: String

        func run() async throws {
            let name = self.name
            let info = try await self.global.withClient { try await $0.replayParked(in: name) }
            self.global.print(
                { GroupJSON.append(info, to: &$0) },
                orLine: "replaying the parked events of group \(info.name) (\(info.parked) parked)"
            )
        }
    }
}
