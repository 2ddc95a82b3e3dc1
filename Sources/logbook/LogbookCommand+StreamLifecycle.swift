internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine

extension LogbookCommand.Streams {
    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a stream's last revision, bounds and whether it was deleted.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The stream.")
        var stream: String

        func run() async throws {
            let stream = self.stream
            let info = try await self.global.withClient { try await $0.streamInfo(stream) }
            Self.show(info, global: self.global)
        }

        static func show(_ info: StreamInfo, global: GlobalOptions) {
            global.print({ StreamInfoText.appendJSON(info, to: &$0) }, orLine: StreamInfoText.line(info))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a stream: its events are hidden at once; --hard deletes it for good.",
            discussion: """
                A soft delete makes reads of the stream answer not found, and $all, categories \
                and groups skip its events; the next append (expectation any or no-stream) \
                recreates it, its revisions going on after the deleted ones. --hard tombstones \
                it: it can never be written again. The events stay on disk: a scavenge that \
                frees them is not built yet.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The stream.")
        var stream: String

        @Option(help: ArgumentHelp("What the stream must look like first: any, no-stream, exists, or its last revision.", valueName: "expectation"))
        var expect: ExpectArgument = .init(.any)

        @Flag(help: "Delete it for good (a tombstone): appends to it are refused from now on.")
        var hard = false

        func run() async throws {
            let (stream, expected, hard) = (self.stream, self.expect.value, self.hard)
            let info = try await self.global.withClient { try await $0.deleteStream(stream, expected: expected, hard: hard) }
            Info.show(info, global: self.global)
        }
    }

    struct SetMeta: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-meta",
            abstract: "Set the bounds that hide a stream's older events (replacing the ones it had).",
            discussion: """
                Events past the bounds are gone from reads of the stream, $all, categories and \
                groups at once. An option left out leaves that bound unset, so `set-meta STREAM` \
                alone clears them (a soft delete's truncation stays).
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The stream.")
        var stream: String

        @Option(name: .customLong("max-count"), help: ArgumentHelp("Keep at most this many of the newest events.", valueName: "n"))
        var maxCount: UInt64?

        @Option(name: .customLong("max-age"), help: ArgumentHelp("Hide events older than this many seconds.", valueName: "seconds"))
        var maxAge: UInt64?

        @Option(name: .customLong("truncate-before"), help: ArgumentHelp("Hide the revisions below this one.", valueName: "revision"))
        var truncateBefore: UInt64?

        func validate() throws {
            if self.maxCount == 0 { throw ValidationError("--max-count must be 1 or more") }
            if self.maxAge == 0 { throw ValidationError("--max-age must be 1 second or more") }
        }

        func run() async throws {
            let stream = self.stream
            let metadata = StreamMetadata(
                maxCount: self.maxCount, maxAge: self.maxAge.map { .seconds(Int64(clamping: $0)) },
                truncateBefore: self.truncateBefore)
            let info = try await self.global.withClient { try await $0.setStreamMetadata(stream, metadata) }
            Info.show(info, global: self.global)
        }
    }
}

/// How the CLI shows a stream's lifecycle: one line, or one JSON object.
enum StreamInfoText {
    static func line(_ info: StreamInfo) -> String {
        var parts = [String]()
        if info.isTombstoned {
            parts.append("deleted for good (tombstoned)")
        } else if info.isDeleted {
            parts.append("deleted")
        }
        parts.append(info.lastRevision.map { "last revision \($0)" } ?? "no events yet")
        if let count = info.metadata.maxCount { parts.append("max count \(count)") }
        if let age = info.metadata.maxAge { parts.append("max age \(age.components.seconds) s") }
        if let before = info.metadata.truncateBefore { parts.append("truncate before \(before)") }
        return "stream \(info.stream): " + parts.joined(separator: ", ")
    }

    static func appendJSON(_ info: StreamInfo, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        JSON.appendMember("stream", info.stream, to: &out)
        JSON.appendKey("last_revision", to: &out)
        if let last = info.lastRevision { JSON.appendInteger(last, to: &out) } else { out.append(contentsOf: "null".utf8) }
        JSON.appendKey("deleted", to: &out)
        out.append(contentsOf: (info.isDeleted ? "true" : "false").utf8)
        JSON.appendKey("tombstoned", to: &out)
        out.append(contentsOf: (info.isTombstoned ? "true" : "false").utf8)
        JSON.appendMember("max_count", info.metadata.maxCount ?? 0, to: &out)
        JSON.appendMember("max_age_seconds", info.metadata.maxAge?.components.seconds ?? 0, to: &out)
        JSON.appendMember("truncate_before", info.metadata.truncateBefore ?? 0, to: &out)
        out.append(UInt8(ascii: "}"))
    }
}
