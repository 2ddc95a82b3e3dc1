internal import ArgumentParser
internal import Logbook

extension LogbookCommand {
    struct Metrics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the daemon's metrics in Prometheus's text format.",
            discussion: """
                The same text logbookd serves at /metrics with --metrics-listen, read over the \
                socket: appends, events and bytes appended, append and query latency, commit \
                sizes, sync times, the head, connections, open calls, each group's lag, \
                in-flight, parked and consumers, each view's lag, disk bytes and the writer's \
                state. Under --acl it needs admin.
                """
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let text = try await self.global.withClient { try await $0.metrics() }
            var output = StandardOutput()
            defer { output.flush() }
            output.write(text)
        }
    }
}
