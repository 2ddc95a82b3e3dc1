import ArgumentParser
import Logbook

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
            var output = StandardOutput()
            defer { output.flush() }
            if self.global.json {
                output.write { ViewOutput.append(definition, to: &$0) }
                output.endLine()
            } else {
                output.line("defined view \(ViewOutput.summary(definition))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the views: one line each, or with --json one object each."
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let views = try await self.global.withClient { try await $0.views() }
            var output = StandardOutput()
            defer { output.flush() }
            if self.global.json {
                for view in views {
                    output.write { ViewOutput.append(view, to: &$0) }
                    output.endLine()
                }
                return
            }
            guard !views.isEmpty else {
                output.line("no views")
                return
            }
            let rows = [["NAME", "GROUP", "INDEXES"]]
                + views.map { [$0.name, $0.group, $0.indexedPaths.isEmpty ? "-" : $0.indexedPaths.joined(separator: " ")] }
            for line in GroupOutput.table(rows) {
                output.line(line)
            }
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
            GroupOutput.printRemoved(name, field: "dropped", json: self.global.json, human: "dropped view \(name)")
        }
    }
}

/// How the `views` commands print.
enum ViewOutput {
    /// `NAME (group G, indexes $.a, $.b)`.
    static func summary(_ view: ViewDefinition) -> String {
        let indexes = view.indexedPaths.isEmpty ? "no indexes" : "indexes " + view.indexedPaths.joined(separator: ", ")
        return "\(view.name) (group \(view.group), \(indexes))"
    }

    /// `{"name","group","indexed_paths":[…]}`.
    static func append(_ view: ViewDefinition, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"name":"#.utf8)
        JSON.appendString(view.name, to: &out)
        out.append(contentsOf: #","group":"#.utf8)
        JSON.appendString(view.group, to: &out)
        out.append(contentsOf: #","indexed_paths":["#.utf8)
        for (index, path) in view.indexedPaths.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSON.appendString(path, to: &out)
        }
        out.append(contentsOf: "]}".utf8)
    }
}
