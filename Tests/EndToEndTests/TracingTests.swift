internal import Foundation
internal import InMemoryTracing
internal import Logbook
internal import Synchronization
internal import Testing
internal import Tracing

#if canImport(Glibc)
internal import Glibc
#endif

/// One trace from the service that appended, through the real daemon, to the worker that
/// projected the event: the trace context crosses the daemon in the event's metadata
/// (`traceparent`, `tracestate`), and crosses processes.
@Suite("Tracing through the daemon", .serialized)
struct TracingEndToEndTests {
    /// A daemon with a group on category `trace`, and a client on it.
    private func start(retryBackoff: Duration = .milliseconds(10)) async throws -> (Daemon, LogbookClient) {
        let daemon = try Daemon()
        try daemon.start()
        let client = try await LogbookClient.connect(socketPath: daemon.socketPath)
        try await client.createGroup(GroupSettings(name: "tracing", selector: .category("trace"), retryBackoff: retryBackoff))
        return (daemon, client)
    }

    private static func span(_ spans: [FinishedInMemorySpan], named name: String) throws -> FinishedInMemorySpan {
        let found = spans.filter { $0.operationName == name }
        try #require(found.count == 1, "one span named \(name) in \(spans.map(\.operationName))")
        return found[0]
    }

    /// Runs a worker on group `tracing` under `tracer` until `handled` handler runs
    /// returned, then stops it; every span it made has ended when this returns.
    static func runWorker(
        _ client: LogbookClient,
        tracer: W3CTracer,
        until handled: Int,
        handler: @escaping @Sendable (RecordedEvent, Int) async throws -> Void = { _, _ in }
    ) async throws {
        let runs = AsyncStream.makeStream(of: Void.self)
        let count = Mutex(0)
        try await withTracer(tracer) {
            let worker = ProjectionWorker(client: client, group: "tracing") { event in
                let run = count.withLock { count in
                    count += 1
                    return count
                }
                defer { runs.continuation.yield() }
                try await handler(event, run)
            }
            let running = Task { try await worker.run() }
            var seen = 0
            for await _ in runs.stream {
                seen += 1
                if seen == handled { break }
            }
            running.cancel()
            try await running.value
        }
    }

    @Test("the append's span is the parent of the worker's span, with traceparent in the stored metadata")
    func appendSpanParentsWorkerSpan() async throws {
        let (daemon, client) = try await self.start()
        defer { withExtendedLifetime(daemon) {} }
        let tracer = W3CTracer()
        let appended = try await withTracer(tracer) {
            try await tracer.withSpan("place order") { _ in
                try await client.append(to: "trace-1", events: [EventData(type: "Placed", json: #"{"n":1}"#)])
            }
        }
        try await Self.runWorker(client, tracer: tracer, until: 1)
        await client.close()

        let spans = tracer.finishedSpans
        let caller = try Self.span(spans, named: "place order")
        let append = try Self.span(spans, named: "append trace")
        let process = try Self.span(spans, named: "process trace")
        #expect(append.kind == .producer)
        #expect(append.parentSpanID == caller.spanID, "the caller's span is the append's parent")
        #expect(process.kind == .consumer)
        #expect(process.traceID == append.traceID)
        #expect(process.parentSpanID == append.spanID)
        #expect(process.attributes.get("messaging.consumer.group.name") == "tracing")
        #expect(process.attributes.get("logbook.position") == .int64(Int64(appended.positions[0])))
        #expect(process.errors.isEmpty && process.status == nil)

        // What crossed the daemon: the append span's W3C traceparent, in the stored event.
        let client2 = try await LogbookClient.connect(socketPath: daemon.socketPath)
        var stored: [RecordedEvent] = []
        for try await event in client2.read(.stream("trace-1")) { stored.append(event) }
        await client2.close()
        #expect(stored.map(\.metadata) == [["traceparent": "00-\(append.traceID)-\(append.spanID)-01"]])
    }

    @Test("a handler that throws has the error on its span; the next delivery's span has the same parent")
    func handlerErrorIsRecorded() async throws {
        let (daemon, client) = try await self.start()
        defer { withExtendedLifetime(daemon) {} }
        let tracer = W3CTracer()
        try await withTracer(tracer) {
            _ = try await client.append(to: "trace-2", events: [EventData(type: "Placed", json: "{}")])
        }
        struct Refused: Error {}
        try await Self.runWorker(client, tracer: tracer, until: 2) { _, run in
            if run == 1 { throw Refused() }
        }
        await client.close()

        let spans = tracer.finishedSpans
        let append = try Self.span(spans, named: "append trace")
        let processed = spans.filter { $0.operationName == "process trace" }
        try #require(processed.count == 2)
        #expect(processed.allSatisfy { $0.traceID == append.traceID && $0.parentSpanID == append.spanID })
        let failed = processed[0]
        #expect(failed.errors.count == 1)
        #expect(failed.errors.first?.error is Refused)
        #expect(failed.status?.code == .error)
        #expect(failed.attributes.get("error.type") == .string(String(reflecting: Refused.self)))
        #expect(failed.attributes.get("logbook.delivery.attempt") == 1)
        let retried = processed[1]
        #expect(retried.errors.isEmpty && retried.status == nil)
        #expect(retried.attributes.get("logbook.delivery.attempt") == 2)
    }

    @Test("a traceparent set by another process is continued by the worker, and by an append its handler makes")
    func foreignTraceparentIsContinued() async throws {
        let (daemon, client) = try await self.start()
        defer { withExtendedLifetime(daemon) {} }
        // What an OpenTelemetry-instrumented process (Python, say) leaves in the metadata.
        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let parentID = "00f067aa0ba902b7"
        let cli = try CLI(socketPath: daemon.socketPath).run([
            "append", "trace-3", "--type", "Placed", "--data", "{}",
            "--meta", "traceparent=00-\(traceID)-\(parentID)-01", "--meta", "tracestate=vendor=opaque",
        ])
        #expect(cli.status == 0, "\(cli.stderr)")

        let tracer = W3CTracer()
        try await Self.runWorker(client, tracer: tracer, until: 1) { event, _ in
            _ = try await client.append(to: "audit-\(event.position)", events: [EventData(type: "Seen", json: "{}")])
        }
        let spans = tracer.finishedSpans
        let process = try Self.span(spans, named: "process trace")
        let append = try Self.span(spans, named: "append audit")
        #expect(process.traceID == traceID)
        #expect(process.parentSpanID == parentID)
        #expect(append.traceID == traceID)
        #expect(append.parentSpanID == process.spanID)

        var audit: [RecordedEvent] = []
        for try await event in client.read(.category("audit")) { audit.append(event) }
        await client.close()
        #expect(audit.map(\.metadata) == [["traceparent": "00-\(traceID)-\(append.spanID)-01", "tracestate": "vendor=opaque"]])
    }

    @Test("across processes: a worker in a child process exports a span whose parent is this process's append span")
    func twoProcesses() async throws {
        let (daemon, client) = try await self.start()
        defer { withExtendedLifetime(daemon) {} }
        let tracer = W3CTracer()
        try await withTracer(tracer) {
            _ = try await client.append(to: "trace-4", events: [EventData(type: "Placed", json: "{}")])
        }
        await client.close()
        let append = try Self.span(tracer.finishedSpans, named: "append trace")

        // The child is this test binary again (a Swift Testing exit test): it runs a worker
        // with a tracer of its own, then prints the spans it made, one JSON object a line.
        let child = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            [socketPath = daemon.socketPath as String] in
            let tracer = W3CTracer()
            let client = LogbookClient(socketPath: socketPath)
            try await TracingEndToEndTests.runWorker(client, tracer: tracer, until: 1)
            await client.close()
            for span in tracer.finishedSpans {
                print("span " + ExportedSpan(span).json)
            }
        }
        let exported = try (child?.standardOutputContent ?? []).split(separator: UInt8(ascii: "\n"))
            .filter { $0.starts(with: Array("span ".utf8)) }
            .map { try JSONDecoder().decode(ExportedSpan.self, from: Data($0.dropFirst(5))) }
        let process = try #require(exported.first { $0.name == "process trace" }, "\(exported)")
        #expect(process.processID != getpid(), "the worker's span was made in another process")
        #expect(process.kind == "consumer")
        #expect(process.traceID == append.traceID)
        #expect(process.parentSpanID == append.spanID)
        #expect(process.spanID != append.spanID)
    }
}

/// A finished span as the child process prints it.
struct ExportedSpan: Codable, CustomStringConvertible {
    var name: String
    var kind: String
    var traceID: String
    var spanID: String
    var parentSpanID: String?
    /// The process that made the span.
    var processID: Int32

    init(_ span: FinishedInMemorySpan) {
        self.name = span.operationName
        self.kind = "\(span.kind)"
        self.traceID = span.traceID
        self.spanID = span.spanID
        self.parentSpanID = span.parentSpanID
        self.processID = getpid()
    }

    var json: String {
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self)
    }

    var description: String { self.json }
}
