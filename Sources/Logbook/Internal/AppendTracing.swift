internal import Tracing

/// The producer span of an append, and the trace context it leaves in each event's metadata.
///
/// One span per append call (however many streams and events), named and described after
/// OpenTelemetry's messaging conventions: `append <category>` (a stream's category is the
/// low-cardinality name of where it goes, as `messaging.destination.template`), kind
/// producer, `messaging.system` `logbook`. The bootstrapped instrument injects the span's
/// context once into a dictionary of its own, which is then copied into each event's
/// metadata; an event that already carries one of those keys keeps its metadata as the
/// caller wrote it (the caller's context wins).
///
/// With no tracer bootstrapped (swift-distributed-tracing's no-op default) an append
/// skips all of this after one look at the instrument (``isTracing``).
enum AppendTracing {
    /// False when no instrument is bootstrapped (nor bound with `withTracer`), or a no-op
    /// one: the append then sends its events as they are, without a span. Measured in a
    /// release build: the look costs ~60 ns and no allocation, where a no-op span with its
    /// injection costs ~800 ns (no allocation either).
    static var isTracing: Bool {
        let instrument = InstrumentationSystem.instrument
        return !(instrument is NoOpInstrument || instrument is NoOpTracer)
    }

    /// Runs `send` inside the append's span, with the events it is to send.
    static func traced(
        _ appends: [StreamAppend],
        socketPath: String,
        send: ([StreamAppend]) async throws -> [AppendResult]
    ) async throws -> [AppendResult] {
        try await Self.traced(appends, socketPath: socketPath, tracer: InstrumentationSystem.tracer, send: send)
    }

    private static func traced<T: Tracer>(
        _ appends: [StreamAppend],
        socketPath: String,
        tracer: T,
        send: ([StreamAppend]) async throws -> [AppendResult]
    ) async throws -> [AppendResult] {
        try await tracer.withSpan(Self.operationName(appends), ofKind: .producer) { span in
            if span.isRecording {
                span.attributes = Self.attributes(appends, socketPath: socketPath)
            }
            var carrier: [String: String] = [:]
            InstrumentationSystem.instrument.inject(span.context, into: &carrier, using: EventMetadataInjector())
            do {
                let results = try await send(carrier.isEmpty ? appends : Self.adding(carrier, to: appends))
                if span.isRecording, let only = results.first, results.count == 1, only.positions.count == 1 {
                    span.attributes["logbook.position"] = Int64(only.positions[0])
                    span.attributes["logbook.revision"] = Int64(only.firstRevision)
                }
                return results
            } catch {
                span.attributes[MessagingAttributes.errorType] = MessagingAttributes.errorType(of: error)
                throw error
            }
        }
    }

    /// `append <category>` when every stream is of one category, else `append`.
    static func operationName(_ appends: [StreamAppend]) -> String {
        guard let first = appends.first else { return "append" }
        let category = MessagingAttributes.category(of: first.stream)
        for append in appends.dropFirst() where MessagingAttributes.category(of: append.stream) != category {
            return "append"
        }
        return "append \(category)"
    }

    static func attributes(_ appends: [StreamAppend], socketPath: String) -> SpanAttributes {
        var attributes = MessagingAttributes.common(operation: "append", type: "send", socketPath: socketPath)
        if appends.count == 1, let only = appends.first {
            attributes[MessagingAttributes.destinationName] = only.stream
            attributes[MessagingAttributes.destinationTemplate] = String(MessagingAttributes.category(of: only.stream))
        } else {
            attributes["logbook.streams"] = appends.map(\.stream)
        }
        let count = appends.reduce(0) { $0 + $1.events.count }
        if count == 1, let event = appends.first(where: { !$0.events.isEmpty })?.events.first {
            attributes[MessagingAttributes.messageID] = MessagingAttributes.messageID(event.id)
            if let correlationID = event.correlationID {
                attributes[MessagingAttributes.conversationID] = correlationID
            }
        } else {
            // The conventions leave the count off single-message operations.
            attributes[MessagingAttributes.batchMessageCount] = Int64(count)
        }
        return attributes
    }

    /// The events of `appends` with `carrier`'s entries in their metadata, except those that
    /// carry one of its keys already.
    static func adding(_ carrier: [String: String], to appends: [StreamAppend]) -> [StreamAppend] {
        var appends = appends
        for streamIndex in appends.indices {
            for eventIndex in appends[streamIndex].events.indices {
                Self.add(carrier, to: &appends[streamIndex].events[eventIndex].metadata)
            }
        }
        return appends
    }

    /// Adds `carrier`'s entries to `metadata`, unless it holds one of their keys already:
    /// trace context set by the caller is kept whole, not mixed with the append's.
    static func add(_ carrier: [String: String], to metadata: inout [String: String]) {
        if metadata.isEmpty {
            // Shares the carrier's storage: no copy per event.
            metadata = carrier
            return
        }
        for key in carrier.keys where metadata[key] != nil {
            return
        }
        metadata.merge(carrier) { mine, _ in mine }
    }
}
