internal import ArgumentParser
internal import Logbook
internal import LogbookCommandLine

extension LogbookCommand {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the log's events to standard output as JSON Lines, for logbook import.",
            discussion: """
                One object per event, in position order, with the fields of read --json: \
                stream, revision, position, id, type, time, content_type, data, metadata, \
                correlation_id, causation_id; and data_base64, the exact bytes, when a JSON \
                payload had whitespace to take out to fit on its line. It stops at the head \
                the log had when it started: appends meanwhile are left for the next export. \
                A progress bar goes to standard error when that is a terminal.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The first position to export (default: the log's start).", valueName: "position"))
        var from: UInt64?

        func run() async throws {
            var output = StandardOutput()
            defer { output.flush() }
            try await self.global.withClient { client in
                let head = try await Self.head(client)
                var bar = ProgressBar(total: head, unit: "events")
                var count = 0
                if head >= (self.from ?? 1) {
                    for try await event in client.read(.all, from: self.from.map { .position($0) } ?? .start) {
                        output.write { EventJSON.appendExported(event, to: &$0) }
                        output.endLine()
                        count += 1
                        bar.update(done: event.position, count: count)
                        if event.position >= head { break }
                    }
                }
                bar.finish("exported \(count) events up to position \(head)")
            }
        }

        /// The log's last position now (0 when it is empty).
        private static func head(_ client: LogbookClient) async throws -> UInt64 {
            for try await event in client.read(.all, from: .end, direction: .backwards, limit: 1) {
                return event.position
            }
            return 0
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append the events of a logbook export file, keeping their ids.",
            discussion: """
                Each stream's events keep their order and their ids, so importing the same \
                file again appends nothing (an id already stored returns its first positions), \
                and an import that stopped half way is finished by running it again. Positions \
                are the new log's. Consecutive lines of one stream go in one append (up to \
                100 events); appends to different streams run side by side. A line that is not \
                an exported event stops the import there, naming the line: what came before it \
                is appended. A progress bar goes to standard error when that is a terminal.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The file logbook export wrote; - for standard input.", valueName: "file"), completion: .file())
        var file: String

        func run() async throws {
            var reader: LineReader
            do {
                reader = try LineReader(path: self.file)
            } catch {
                Terminal.printError("cannot read \(self.file): \(error)")
                throw ExitCode(1)
            }
            var bar = ProgressBar(total: reader.size, unit: "events")
            let imported = try await self.global.withClient { client in
                try await Self.importAll(from: &reader, file: self.file, into: client, bar: &bar)
            }
            bar.finish("imported \(imported.events) events in \(imported.appends) appends")
        }

        /// Reads batches and appends them, up to `ImportLimits.appendsInFlight` at once, never
        /// two of one stream at once (that keeps each stream's order).
        private static func importAll(
            from reader: inout LineReader, file: String, into client: LogbookClient, bar: inout ProgressBar
        ) async throws -> (events: Int, appends: Int) {
            var batcher = ImportBatcher()
            var lineNumber = 0
            var counted = (events: 0, appends: 0)
            try await withThrowingTaskGroup(of: String.self) { group in
                var busy = Set<String>()
                func send(_ batch: ImportBatcher.Batch) async throws {
                    while busy.contains(batch.stream) || busy.count >= ImportLimits.appendsInFlight {
                        if let done = try await group.next() { busy.remove(done) }
                    }
                    busy.insert(batch.stream)
                    group.addTask {
                        _ = try await client.append(to: batch.stream, events: batch.events)
                        return batch.stream
                    }
                    counted.events += batch.events.count
                    counted.appends += 1
                }
                while let line = try Self.nextLine(&reader, file: file) {
                    lineNumber += 1
                    guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) else { continue }
                    let exported: (stream: String, event: EventData)
                    do {
                        exported = try AppendInput.exported(line: line)
                    } catch {
                        // What came before the bad line is appended, then the import stops.
                        if let last = batcher.flush() { try await send(last) }
                        try await group.waitForAll()
                        Terminal.printError("\(file):\(lineNumber): \(error); the \(counted.events) events before it are imported")
                        throw ExitCode(65)
                    }
                    if let full = batcher.add(exported.stream, exported.event) { try await send(full) }
                    bar.update(done: reader.bytesRead, count: counted.events)
                }
                if let last = batcher.flush() { try await send(last) }
                try await group.waitForAll()
            }
            return counted
        }

        private static func nextLine(_ reader: inout LineReader, file: String) throws -> [UInt8]? {
            do {
                return try reader.next()
            } catch {
                Terminal.printError("cannot read \(file): \(error)")
                throw ExitCode(1)
            }
        }
    }
}

/// How an import batches and overlaps its appends.
enum ImportLimits {
    /// Events per append: a batch is one stream's consecutive events.
    static let eventsPerAppend = 100
    /// Bytes of data per append, well inside the daemon's frame limit.
    static let bytesPerAppend = 4 << 20
    /// Appends in flight at once: enough to fill the daemon's group commits.
    static let appendsInFlight = 32
}

/// Cuts the exported events into appends: a run of one stream's events, up to the limits.
/// The cut depends on the file alone, so importing it again sends the same appends, each
/// one an idempotent retry.
struct ImportBatcher {
    struct Batch: Sendable {
        var stream: String
        var events: [EventData]
    }

    private var current: Batch?
    private var bytes = 0

    /// Adds an event; returns the batch it closed, if any.
    mutating func add(_ stream: String, _ event: EventData) -> Batch? {
        var closed: Batch?
        if let batch = self.current,
            batch.stream != stream || batch.events.count >= ImportLimits.eventsPerAppend
                || self.bytes + event.data.count > ImportLimits.bytesPerAppend
        {
            closed = batch
            self.current = nil
        }
        if self.current == nil {
            self.current = Batch(stream: stream, events: [])
            self.bytes = 0
        }
        self.current?.events.append(event)
        self.bytes += event.data.count
        return closed
    }

    mutating func flush() -> Batch? {
        defer { self.current = nil }
        return self.current
    }
}
