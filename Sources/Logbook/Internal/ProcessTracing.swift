internal import Tracing

/// The consumer span a ``ProjectionWorker`` runs each handler in, whose parent is the trace
/// context the event's appender left in its metadata.
///
/// So one trace runs from the service that appended, through the daemon, to the worker
/// that projected the event: the append's producer span is this span's parent. Named and
/// described after OpenTelemetry's messaging conventions: `process <category>`, kind
/// consumer, with the group as `messaging.consumer.group.name`. An event whose metadata
/// holds no trace context starts a trace of its own. Inside the span, the span's context
/// is the task's current one, so an append the handler makes continues the trace.
enum ProcessTracing {
    /// How handling a delivery ended.
    enum Outcome: Sendable {
        /// Handled and acked.
        case handled
        /// The handler threw, and the delivery was nacked: the span records the error.
        case failed(any Error)
        /// The handler threw after its task was cancelled: the worker is stopping, and the
        /// delivery is left to come again. Not an error of the event's.
        case interrupted
    }

    /// Runs `handle` inside the event's consumer span; a `.failed` outcome is recorded on
    /// the span, with an error status.
    static func traced(
        _ event: RecordedEvent,
        group: String,
        attempt: Int,
        socketPath: String,
        handle: () async -> Outcome
    ) async -> Outcome {
        await Self.traced(
            event,
            group: group,
            attempt: attempt,
            socketPath: socketPath,
            tracer: InstrumentationSystem.tracer,
            handle: handle
        )
    }

    private static func traced<T: Tracer>(
        _ event: RecordedEvent,
        group: String,
        attempt: Int,
        socketPath: String,
        tracer: T,
        handle: () async -> Outcome
    ) async -> Outcome {
        var parent = InstrumentationContext.topLevel
        InstrumentationSystem.instrument.extract(event.metadata, into: &parent, using: EventMetadataExtractor())
        return await tracer.withSpan(
            "process \(MessagingAttributes.category(of: event.stream))",
            context: parent,
            ofKind: .consumer
        ) { span in
            if span.isRecording {
                span.attributes = Self.attributes(event, group: group, attempt: attempt, socketPath: socketPath)
            }
            let outcome = await handle()
            if case .failed(let error) = outcome {
                span.recordError(error)
                span.setStatus(SpanStatus(code: .error))
                span.attributes[MessagingAttributes.errorType] = MessagingAttributes.errorType(of: error)
            }
            return outcome
        }
    }

    static func attributes(_ event: RecordedEvent, group: String, attempt: Int, socketPath: String) -> SpanAttributes {
        var attributes = MessagingAttributes.common(operation: "process", type: "process", socketPath: socketPath)
        attributes[MessagingAttributes.destinationName] = event.stream
        attributes[MessagingAttributes.destinationTemplate] = String(MessagingAttributes.category(of: event.stream))
        attributes[MessagingAttributes.consumerGroupName] = group
        attributes[MessagingAttributes.subscriptionName] = group
        attributes[MessagingAttributes.messageID] = MessagingAttributes.messageID(event.id)
        if let correlationID = event.correlationID {
            attributes[MessagingAttributes.conversationID] = correlationID
        }
        attributes["logbook.event.type"] = event.type
        attributes["logbook.position"] = Int64(event.position)
        attributes["logbook.revision"] = Int64(event.revision)
        attributes["logbook.delivery.attempt"] = Int64(attempt)
        return attributes
    }
}
