internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine

extension LogbookCommand {
    /// `logbook views …`: the Admin calls about views (read models).
    struct Views: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage views: read models written by a group's projection workers.",
            subcommands: [Define.self, List.self, Drop.self]
        )

        @OptionGroup var global: GlobalOptions
    }
}

extension LogbookCommand.Views {
    struct Define: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Define a view written by a group, with an index on each --index path.",
            discussion: """
                Only the group's consumers write the view, through the view writes their acks \
                carry. Paths are JSON paths such as $.customer or $.address.city; queries \
                filtering or ordering by an indexed path use its index. Defining exactly what \
                exists again succeeds.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The view's name.")
        var name: String

        @Option(help: "The group whose acks write the view.")
        var group: String

        @Option(name: .customLong("index"), help: ArgumentHelp("A JSON path to index (repeatable).", valueName: "path"))
        var indexes: [String] = []

        func run() async throws {
            let definition = ViewDefinition(name: self.name, group: self.group, indexedPaths: self.indexes)
            try await self.global.withClient { try await $0.defineView(definition) }
            self.global.print({ ViewJSON.append(definition, to: &$0) }, orLine: "defined view \(PlainText.summary(definition))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the views: one line each, or with --json one object each."
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let views = try await self.global.withClient { try await $0.views() }
            self.global.print(views, object: ViewJSON.append, orTable: PlainText.table(views), empty: "no views")
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop a view with its documents."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The view's name.")
        var name: String

        func run() async throws {
            let name = self.name
            try await self.global.withClient { try await $0.dropView(name) }
            self.global.print({ ViewJSON.appendRemoved(name, done: "dropped", to: &$0) }, orLine: "dropped view \(name)")
        }
    }
}
