internal import Foundation
internal import InMemoryTracing
@testable internal import Logbook
internal import Testing
internal import Tracing

/// The append's producer span and the trace context it puts in each event's metadata, and
/// the consumer span a worker runs a handler in, with InMemoryTracing's tracer (which
/// injects its own keys: what the library does not depend on which keys they are).
@Suite("Tracing")
struct TracingTests {
    private static let traceKey = InMemoryTracer.traceIDKey
    private static let spanKey = InMemoryTracer.spanIDKey

    /// The events of `stream` as the fake server stored them.
    private func read(_ stream: String, from client: LogbookClient) async throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        for try await event in client.read(.stream(stream)) { events.append(event) }
        return events
    }

    // MARK: Appends

    @Test("an append runs in a producer span and leaves its context in every event's metadata")
    func appendInjectsItsSpan() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        let tracer = InMemoryTracer()
        let events = [
            EventData(type: "Placed", json: "{}"),
            EventData(type: "Paid", json: "{}", metadata: ["tenant": "t-1"]),
        ]
        try await withTracer(tracer) {
            _ = try await client.append(to: "order-42", events: events)
        }
        let stored = try await self.read("order-42", from: client)
        await client.close()
        await server.stop()

        let span = try #require(tracer.finishedSpans.first)
        #expect(tracer.finishedSpans.count == 1)
        #expect(span.operationName == "append order")
        #expect(span.kind == .producer)
        #expect(span.attributes.get("messaging.system") == "logbook")
        #expect(span.attributes.get("messaging.operation.type") == "send")
        #expect(span.attributes.get("messaging.destination.name") == "order-42")
        #expect(span.attributes.get("messaging.destination.template") == "order")
        #expect(span.attributes.get("messaging.batch.message_count") == 2)
        #expect(span.attributes.get("server.address") == .string(server.socketPath))
        let context = [Self.traceKey: span.traceID, Self.spanKey: span.spanID]
        #expect(stored.map(\.metadata) == [context, context.merging(["tenant": "t-1"]) { $1 }])
    }

    @Test("an append of one event names it and records where it landed")
    func singleEventAttributes() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        let tracer = InMemoryTracer()
        let event = EventData(type: "Placed", json: "{}", correlationID: "checkout-9")
        let result = try await withTracer(tracer) {
            try await client.append(to: "cart", events: [event])
        }
        await client.close()
        await server.stop()

        let span = try #require(tracer.finishedSpans.first)
        #expect(span.operationName == "append cart")
        #expect(span.attributes.get("messaging.message.id") == .string(event.id.uuidString.lowercased()))
        #expect(span.attributes.get("messaging.message.conversation_id") == "checkout-9")
        #expect(span.attributes.get("messaging.batch.message_count") == nil)
        #expect(span.attributes.get("logbook.position") == .int64(Int64(result.positions[0])))
        #expect(span.attributes.get("logbook.revision") == 0)
    }

    @Test("the caller's span is the append span's parent")
    func appendContinuesTheCallersTrace() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        let tracer = InMemoryTracer()
        try await withTracer(tracer) {
            try await tracer.withSpan("checkout") { _ in
                _ = try await client.append(to: "order-1", events: [EventData(type: "Placed", json: "{}")])
            }
        }
        await client.close()
        await server.stop()

        let spans = tracer.finishedSpans
        let append = try #require(spans.first { $0.operationName == "append order" })
        let checkout = try #require(spans.first { $0.operationName == "checkout" })
        #expect(append.traceID == checkout.traceID)
        #expect(append.parentSpanID == checkout.spanID)
    }

    @Test("an event that carries trace context of its own keeps it whole")
    func callersContextWins() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        let tracer = InMemoryTracer()
        let own = [Self.traceKey: "trace-theirs", "tenant": "t-1"]
        try await withTracer(tracer) {
            _ = try await client.append(to: "order-7", events: [
                EventData(type: "Placed", json: "{}", metadata: own),
                EventData(type: "Paid", json: "{}"),
            ])
        }
        let stored = try await self.read("order-7", from: client)
        await client.close()
        await server.stop()

        let span = try #require(tracer.finishedSpans.first)
        #expect(stored.map(\.metadata) == [own, [Self.traceKey: span.traceID, Self.spanKey: span.spanID]])
    }

    @Test("with no tracer bootstrapped, an append sends the metadata as it was given")
    func noTracerNoMetadata() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        _ = try await client.append(to: "order-8", events: [
            EventData(type: "Placed", json: "{}"),
            EventData(type: "Paid", json: "{}", metadata: ["tenant": "t-1"]),
        ])
        let stored = try await self.read("order-8", from: client)
        await client.close()
        await server.stop()
        #expect(stored.map(\.metadata) == [[:], ["tenant": "t-1"]])
    }

    @Test("a refused append records the error on its span")
    func refusedAppendRecordsError() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        let tracer = InMemoryTracer()
        await #expect(throws: LogbookError.self) {
            try await withTracer(tracer) {
                _ = try await client.append(to: "conflict-1", expected: .exact(3), events: [EventData(type: "A", json: "{}")])
            }
        }
        await client.close()
        await server.stop()

        let span = try #require(tracer.finishedSpans.first)
        #expect(span.status?.code == .error)
        #expect(span.errors.count == 1)
        #expect((span.errors.first?.error as? LogbookError)?.code == .failedPrecondition)
        #expect(span.attributes.get("error.type") == "FAILED_PRECONDITION")
    }

    @Test(
        "an append to several streams is one span, named after their category when they share one",
        arguments: [
            (["order-1", "order-2"], "append order"),
            (["order-1", "payment-1"], "append"),
        ]
    )
    func multiStreamAppend(streams: [String], name: String) async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        let tracer = InMemoryTracer()
        try await withTracer(tracer) {
            _ = try await client.append(streams.map { StreamAppend(stream: $0, events: [EventData(type: "A", json: "{}")]) })
        }
        var stored: [RecordedEvent] = []
        for stream in streams {
            stored += try await self.read(stream, from: client)
        }
        await client.close()
        await server.stop()

        let span = try #require(tracer.finishedSpans.first)
        #expect(tracer.finishedSpans.count == 1)
        #expect(span.operationName == name)
        #expect(span.attributes.get("logbook.streams") == .stringArray(streams))
        #expect(span.attributes.get("messaging.destination.name") == nil)
        #expect(span.attributes.get("messaging.batch.message_count") == 2)
        #expect(stored.allSatisfy { $0.metadata[Self.spanKey] == span.spanID })
    }

    // MARK: Injector and extractor

    @Test("the injector writes what the instrument gives it, and the extractor reads it back")
    func injectorExtractorRoundTrip() throws {
        let tracer = InMemoryTracer()
        let span = tracer.startSpan("append order", ofKind: .producer)
        var metadata: [String: String] = [:]
        tracer.inject(span.context, into: &metadata, using: EventMetadataInjector())
        #expect(metadata == [Self.traceKey: span.traceID, Self.spanKey: span.spanID])

        var context = InstrumentationContext.topLevel
        tracer.extract(metadata, into: &context, using: EventMetadataExtractor())
        #expect(context.inMemorySpanContext?.traceID == span.traceID)
        #expect(context.inMemorySpanContext?.spanID == span.spanID)
        #expect(EventMetadataExtractor().extract(key: "traceparent", from: metadata) == nil)
        span.end()
    }

    @Test(
        "an event's metadata takes the append's context unless it holds one of its keys",
        arguments: [
            ([:], ["traceparent": "00-a-b-01", "tracestate": "k=v"]),
            (["tenant": "t"], ["tenant": "t", "traceparent": "00-a-b-01", "tracestate": "k=v"]),
            (["traceparent": "00-mine-01"], ["traceparent": "00-mine-01"]),
            (["tracestate": "mine=1", "tenant": "t"], ["tracestate": "mine=1", "tenant": "t"]),
        ] as [([String: String], [String: String])]
    )
    func addingContextToMetadata(given: [String: String], expected: [String: String]) {
        var metadata = given
        AppendTracing.add(["traceparent": "00-a-b-01", "tracestate": "k=v"], to: &metadata)
        #expect(metadata == expected)
    }

    // MARK: The worker's span

    private func event(metadata: [String: String], stream: String = "order-42") -> RecordedEvent {
        RecordedEvent(
            stream: stream, revision: 3, position: 17, id: EventData.makeID(), type: "Placed", data: [],
            contentType: "application/json", metadata: metadata, correlationID: "checkout-9", timeUnixMicros: 0
        )
    }

    /// The metadata an append made in a producer span of `tracer` leaves, and that span.
    private func appended(with tracer: InMemoryTracer) -> ([String: String], FinishedInMemorySpan?) {
        var metadata: [String: String] = [:]
        tracer.withSpan("append order", ofKind: .producer) { span in
            tracer.inject(span.context, into: &metadata, using: EventMetadataInjector())
        }
        return (metadata, tracer.popFinishedSpans().first)
    }

    @Test("a handler runs in a consumer span whose parent is the context in the event's metadata")
    func processSpanContinuesTheTrace() async throws {
        let tracer = InMemoryTracer()
        let (metadata, produced) = self.appended(with: tracer)
        let append = try #require(produced)
        let event = self.event(metadata: metadata)
        let current = await withTracer(tracer) {
            var current: InMemorySpanContext?
            _ = await ProcessTracing.traced(event, group: "orders", attempt: 2, socketPath: "/run/s.sock") {
                current = InstrumentationContext.current?.inMemorySpanContext
                return .handled
            }
            return current
        }

        let span = try #require(tracer.finishedSpans.first)
        #expect(span.operationName == "process order")
        #expect(span.kind == .consumer)
        #expect(span.traceID == append.traceID)
        #expect(span.parentSpanID == append.spanID)
        #expect(span.errors.isEmpty && span.status == nil)
        // The span's context is the task's in the handler: an append made there continues the trace.
        #expect(current == span.spanContext)
        #expect(span.attributes.get("messaging.operation.type") == "process")
        #expect(span.attributes.get("messaging.destination.name") == "order-42")
        #expect(span.attributes.get("messaging.consumer.group.name") == "orders")
        #expect(span.attributes.get("messaging.message.id") == .string(event.id.uuidString.lowercased()))
        #expect(span.attributes.get("messaging.message.conversation_id") == "checkout-9")
        #expect(span.attributes.get("logbook.position") == 17)
        #expect(span.attributes.get("logbook.revision") == 3)
        #expect(span.attributes.get("logbook.delivery.attempt") == 2)
    }

    @Test("an event with no trace context starts a trace of its own")
    func processSpanWithoutContext() async throws {
        let tracer = InMemoryTracer()
        let event = self.event(metadata: ["tenant": "t"], stream: "cart")
        _ = await withTracer(tracer) {
            await ProcessTracing.traced(event, group: "g", attempt: 1, socketPath: "s") { .handled }
        }
        let span = try #require(tracer.finishedSpans.first)
        #expect(span.operationName == "process cart")
        #expect(span.parentSpanID == nil)
    }

    struct Refused: Error {}

    @Test("a handler's error is recorded on its span; an interruption is not")
    func processSpanRecordsErrors() async throws {
        let tracer = InMemoryTracer()
        let event = self.event(metadata: [:])
        await withTracer(tracer) {
            _ = await ProcessTracing.traced(event, group: "g", attempt: 1, socketPath: "s") { .failed(Refused()) }
            _ = await ProcessTracing.traced(event, group: "g", attempt: 1, socketPath: "s") {
                .failed(LogbookError(code: .invalidArgument, message: "a view write holds a NUL"))
            }
            _ = await ProcessTracing.traced(event, group: "g", attempt: 1, socketPath: "s") { .interrupted }
        }
        let spans = tracer.finishedSpans
        try #require(spans.count == 3)
        #expect(spans[0].errors.first?.error is Refused)
        #expect(spans[0].status?.code == .error)
        #expect(spans[0].attributes.get("error.type") == .string(String(reflecting: Refused.self)))
        #expect(spans[1].errors.count == 1)
        #expect(spans[1].status?.code == .error)
        #expect(spans[1].attributes.get("error.type") == "INVALID_ARGUMENT")
        #expect(spans[2].errors.isEmpty && spans[2].status == nil)
    }
}
