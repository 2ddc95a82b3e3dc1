import ArgumentParser
import Logbook

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
                settings take the server's defaults: by-stream, 64 in flight per consumer, \
                30 s ack timeout, 10 deliveries before an event is parked.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The group's name.")
        var name: String

        @Argument(help: "The stream the group delivers.")
        var stream: String?

        @Flag(help: "Deliver the whole log ($all).")
        var all = false

        @Option(help: "Deliver the streams of a category.")
        var category: String?

        @Option(help: "Deliver the events of one type.")
        var type: String?

        @Option(help: ArgumentHelp("How consumers share deliveries: by-stream, round-robin or single.", valueName: "strategy"))
        var strategy: StrategyArgument?

        @Option(help: ArgumentHelp("Where the group begins: start, end, or the first position to deliver.", valueName: "from"))
        var from: FromArgument?

        @Option(name: .customLong("max-deliveries"), help: ArgumentHelp("Deliveries before an event is parked.", valueName: "n"))
        var maxDeliveries: Int?

        @Option(name: .customLong("ack-timeout"), help: ArgumentHelp("Seconds a delivery may stay un-acked.", valueName: "seconds"))
        var ackTimeout: Double?

        @Option(name: .customLong("max-in-flight"), help: ArgumentHelp("Un-acked deliveries per consumer.", valueName: "n"))
        var maxInFlight: Int?

        func validate() throws {
            let selectors = [self.stream != nil, self.all, self.category != nil, self.type != nil]
            switch selectors.filter({ $0 }).count {
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
            let selector: ReadSelector =
                if let stream = self.stream { .stream(stream) }
                else if let category = self.category { .category(category) }
                else if let type = self.type { .eventType(type) }
                else { .all }
            var settings = GroupSettings(name: self.name, selector: selector)
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
            GroupOutput.print(info, json: self.global.json) { "created group \(GroupOutput.summary($0))" }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the groups: one line each, or with --json one object each."
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let groups = try await self.global.withClient { try await $0.groups() }
            var output = StandardOutput()
            defer { output.flush() }
            if self.global.json {
                for info in groups {
                    output.write { GroupJSON.append(info, to: &$0) }
                    output.endLine()
                }
                return
            }
            guard !groups.isEmpty else {
                output.line("no groups")
                return
            }
            let rows = [["NAME", "SELECTOR", "STRATEGY", "CHECKPOINT", "LAG", "CONSUMERS", "IN-FLIGHT", "PARKED"]]
                + groups.map { info in
                    [
                        info.name, GroupOutput.selector(info.settings.selector), info.settings.strategy.description,
                        String(info.checkpoint), String(info.lag), String(info.consumers), String(info.inFlight),
                        String(info.parked),
                    ]
                }
            for line in GroupOutput.table(rows) {
                output.line(line)
            }
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
            if self.global.json {
                GroupOutput.printJSON(info)
                return
            }
            var output = StandardOutput()
            defer { output.flush() }
            let settings = info.settings
            var rows: [[String]] = [
                ["group", settings.name],
                ["selector", GroupOutput.selector(settings.selector)],
                ["from", settings.start.description],
            ]
            if !settings.filter.eventTypes.isEmpty {
                rows.append(["event types", settings.filter.eventTypes.joined(separator: ", ")])
            }
            if let prefix = settings.filter.streamPrefix {
                rows.append(["stream prefix", prefix])
            }
            rows += [
                ["strategy", settings.strategy.description],
                ["max in flight", String(settings.maxInFlight)],
                ["ack timeout", GroupOutput.duration(settings.ackTimeout)],
                ["max deliveries", String(settings.maxDeliveries)],
                ["retry backoff", GroupOutput.duration(settings.retryBackoff)],
                ["checkpoint", String(info.checkpoint)],
                ["lag", String(info.lag)],
                ["consumers", String(info.consumers)],
                ["in flight", String(info.inFlight)],
                ["parked", String(info.parked)],
            ]
            for line in GroupOutput.table(rows) {
                output.line(line)
            }
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
            GroupOutput.printRemoved(name, field: "deleted", json: self.global.json, human: "deleted group \(name)")
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
            GroupOutput.print(info, json: self.global.json) { "reset group \($0.name): checkpoint \($0.checkpoint), lag \($0.lag)" }
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
                        if json {
                            output.write { GroupJSON.append(parked, to: &$0) }
                        } else {
                            output.write { GroupOutput.appendHuman(parked, to: &$0) }
                        }
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
            GroupOutput.print(info, json: self.global.json) { "replaying the parked events of group \($0.name) (\($0.parked) parked)" }
        }
    }
}

/// `--strategy`: by-stream, round-robin or single.
enum StrategyArgument: String, ExpressibleByArgument, CaseIterable {
    case byStream = "by-stream"
    case roundRobin = "round-robin"
    case single

    var strategy: GroupSettings.Strategy {
        switch self {
        case .byStream: .byStream
        case .roundRobin: .roundRobin
        case .single: .single
        }
    }
}

/// How the `groups` commands print.
enum GroupOutput {
    /// A group as one JSON object, or the readable line `human` makes.
    static func print(_ info: GroupInfo, json: Bool, human: (GroupInfo) -> String) {
        guard !json else { return self.printJSON(info) }
        var output = StandardOutput()
        output.line(human(info))
        output.flush()
    }

    /// A group or view removed: `{"name":…,"<field>":true}` with --json, else `human`.
    static func printRemoved(_ name: String, field: String, json: Bool, human: String) {
        var output = StandardOutput()
        defer { output.flush() }
        guard json else { return output.line(human) }
        output.write { out in
            out.append(contentsOf: #"{"name":"#.utf8)
            JSON.appendString(name, to: &out)
            out.append(contentsOf: #",""#.utf8)
            out.append(contentsOf: field.utf8)
            out.append(contentsOf: #"":true}"#.utf8)
        }
        output.endLine()
    }

    static func printJSON(_ info: GroupInfo) {
        var output = StandardOutput()
        output.write { GroupJSON.append(info, to: &$0) }
        output.endLine()
        output.flush()
    }

    /// `NAME (selector, strategy, from …)`.
    static func summary(_ info: GroupInfo) -> String {
        "\(info.name) (\(self.selector(info.settings.selector)), \(info.settings.strategy), from \(info.settings.start))"
    }

    /// A selector as the command line spells it.
    static func selector(_ selector: ReadSelector) -> String {
        selector.description
    }

    /// `250 ms`, `30 s`, `1.5 s`.
    static func duration(_ duration: Duration) -> String {
        let milliseconds = GroupJSON.milliseconds(duration)
        guard milliseconds >= 1000 else { return "\(milliseconds) ms" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        return "\(Double(milliseconds) / 1000) s"
    }

    /// Left-aligned columns, two spaces apart.
    static func table(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }
    }

    /// One readable line: `#position stream@revision type attempts=N reason`.
    static func appendHuman(_ parked: ParkedEvent, to out: inout [UInt8]) {
        let event = parked.event
        out.append(UInt8(ascii: "#"))
        JSON.appendInteger(event.position, to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: event.stream.utf8)
        out.append(UInt8(ascii: "@"))
        JSON.appendInteger(event.revision, to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: event.type.utf8)
        out.append(contentsOf: " attempts=".utf8)
        JSON.appendInteger(parked.attempts, to: &out)
        out.append(UInt8(ascii: " "))
        // A reason comes from a consumer's nack: keep it on its line.
        out.append(contentsOf: parked.reason.map { $0.isNewline ? " " : $0 }.reduce(into: "") { $0.append($1) }.utf8)
    }
}
