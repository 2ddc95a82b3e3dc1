internal import ArgumentParser
internal import Logbook

/// `logbook`: the command-line tool for logbookd (DESIGN §9).
///
/// One root command; each subcommand lives in an extension in `LogbookCommand+Name.swift`
/// (swift-argument-parser's `Examples/math/Math.swift`). `--socket` and `--json` are
/// declared on the root and on every subcommand with the same option group, so they are
/// accepted before or after the subcommand's name.
@main
struct LogbookCommand: AsyncParsableCommand {
    /// What `logbook --version` prints: this tool's version (`logbook ping` shows the
    /// daemon's).
    static let version = LogbookClient.version

    static let configuration = CommandConfiguration(
        commandName: "logbook",
        abstract: "Append, read, follow, query and benchmark events in a logbookd event store.",
        discussion: """
            Exit status: 0 on success; the server's status code when it refused the call \
            (9 FAILED_PRECONDITION for a wrong expected revision, 5 NOT_FOUND, …); 14 \
            (UNAVAILABLE) when logbookd cannot be reached or the connection to it broke; 1 \
            for another local error; 64 for a usage error. `logbook ping` checks that the \
            daemon serves.
            Shell completion: logbook --generate-completion-script bash|zsh|fish prints a \
            script to install (the README says where).
            """,
        version: Self.version,
        subcommands: [
            Append.self,
            Read.self,
            Subscribe.self,
            Groups.self,
            Views.self,
            Query.self,
            Streams.self,
            Stats.self,
            Metrics.self,
            Top.self,
            Export.self,
            Import.self,
            Backup.self,
            Ping.self,
            Bench.self,
        ]
    )

    @OptionGroup var global: GlobalOptions
}
