import ArgumentParser

/// The commands of DESIGN §9 whose server side is not built yet: each says so and exits
/// with 12 (UNIMPLEMENTED), whatever its arguments.
protocol NotBuiltYetCommand: AsyncParsableCommand {
    var global: GlobalOptions { get }
}

extension NotBuiltYetCommand {
    func run() async throws {
        let name = Self.configuration.commandName ?? "\(Self.self)".lowercased()
        Terminal.printError("error: UNIMPLEMENTED: logbook \(name) is not built yet")
        throw ExitCode.unimplemented
    }
}

extension LogbookCommand {
    struct Views: NotBuiltYetCommand {
        static let configuration = CommandConfiguration(
            commandName: "views",
            abstract: "Manage views (not built yet).",
            usage: "logbook views define NAME --group GROUP [--index PATH …] | list | drop NAME"
        )
        @OptionGroup var global: GlobalOptions
        @Argument(parsing: .allUnrecognized) var arguments: [String] = []
    }

    struct Query: NotBuiltYetCommand {
        static let configuration = CommandConfiguration(
            commandName: "query",
            abstract: "Query a view (not built yet).",
            usage: "logbook query VIEW [--key K | --prefix P] [--where 'PATH OP VALUE' …] [--order-by PATH [--desc]] [--limit N]"
        )
        @OptionGroup var global: GlobalOptions
        @Argument(parsing: .allUnrecognized) var arguments: [String] = []
    }

    struct Streams: NotBuiltYetCommand {
        static let configuration = CommandConfiguration(
            commandName: "streams",
            abstract: "List streams (not built yet).",
            usage: "logbook streams [--prefix P]"
        )
        @OptionGroup var global: GlobalOptions
        @Argument(parsing: .allUnrecognized) var arguments: [String] = []
    }

    struct Stats: NotBuiltYetCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats",
            abstract: "Show the daemon's statistics (not built yet)."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(parsing: .allUnrecognized) var arguments: [String] = []
    }
}
