public import ServiceLifecycle

/// Runs a handler for every event of a persistent subscription group: the loop a
/// projection worker process needs, with its acks and retries.
///
/// The handler's success acks the event; a thrown error nacks it with `.retry` and the
/// error's description as the reason, so it comes again (attempt + 1) after the group's
/// back-off, and is parked past the group's `maxDeliveries`. Events are handled one at a
/// time, in the order they arrive (under `byStream`, each stream's in revision order).
///
/// Delivery is at-least-once: after a lost connection, a daemon restart or a crash of
/// this process, an event whose ack was not recorded comes again, so the handler must be
/// idempotent (or keep its own position per stream). The worker reconnects by itself.
///
/// ```swift
/// let worker = ProjectionWorker(client: client, group: "orders-projection") { event in
///     try await database.apply(event)
/// }
/// let running = Task { try await worker.run() }
/// // … on shutdown:
/// running.cancel()
/// try await running.value
/// ```
///
/// The worker is a swift-service-lifecycle `Service` too: in a `ServiceGroup` a graceful
/// shutdown stops it as cancelling does. List the client before it, so that the client
/// closes after the worker stopped:
///
/// ```swift
/// let group = ServiceGroup(services: [client, worker], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
///
/// Each handler runs in a span of the bootstrapped tracer (swift-distributed-tracing), of
/// kind consumer, whose parent is the trace context the event's appender left in its
/// metadata (`traceparent`): one trace runs from the append to the projection. An error the
/// handler throws is recorded on that span.
///
/// A projection whose read model lives in Logbook returns ``ViewWrite``s instead: they go
/// in the event's ack and the daemon applies them in the transaction that records it, so
/// the view reflects every event exactly once, and the handler need not be idempotent.
///
/// ```swift
/// let worker = ProjectionWorker.writingViews(client: client, group: "orders") { event in
///     let order = try JSONDecoder().decode(OrderPlaced.self, from: Data(event.data))
///     return [try .merge("order_summaries", key: order.customer, ["last_order": order.id])]
/// }
/// ```
public struct ProjectionWorker: Sendable, Service {
    /// The group the worker consumes.
    public let group: String
    private let subscription: GroupSubscription
    private let handler: @Sendable (RecordedEvent) async throws -> [ViewWrite]

    /// - Parameters:
    ///   - client: Where the daemon is; the worker opens a connection of its own.
    ///   - group: The group to consume; it must exist.
    ///   - maxInFlight: The most deliveries the worker holds at once; nil for the group's.
    ///   - handler: Handles one event; throws to have it delivered again.
    public init(
        client: LogbookClient,
        group: String,
        maxInFlight: Int? = nil,
        handler: @escaping @Sendable (RecordedEvent) async throws -> Void
    ) {
        self.init(subscription: client.consume(group: group, maxInFlight: maxInFlight)) { event in
            try await handler(event)
            return []
        }
    }

    /// A worker whose handler returns the view writes each event makes; they are applied
    /// with the event's ack, exactly once.
    ///
    /// A factory rather than an `init`: a trailing closure could not tell the two apart.
    ///
    /// - Parameters:
    ///   - client: Where the daemon is; the worker opens a connection of its own.
    ///   - group: The group to consume; it must exist, and own the views written.
    ///   - maxInFlight: The most deliveries the worker holds at once; nil for the group's.
    ///   - project: Turns one event into view writes (none is fine); throws to have it
    ///     delivered again.
    public static func writingViews(
        client: LogbookClient,
        group: String,
        maxInFlight: Int? = nil,
        project: @escaping @Sendable (RecordedEvent) async throws -> [ViewWrite]
    ) -> ProjectionWorker {
        ProjectionWorker(subscription: client.consume(group: group, maxInFlight: maxInFlight), handler: project)
    }

    package init(subscription: GroupSubscription, handler: @escaping @Sendable (RecordedEvent) async throws -> [ViewWrite]) {
        self.group = subscription.group
        self.subscription = subscription
        self.handler = handler
    }

    /// Handles deliveries until the task is cancelled or a `ServiceGroup` shuts down
    /// gracefully, then returns.
    ///
    /// Stopping is clean: a handler that finished is acked, one that was
    /// interrupted (it threw after the cancellation) is neither acked nor nacked, and
    /// what the worker held un-acked is delivered again, to it or another consumer.
    ///
    /// - Throws: ``LogbookError`` when the group refuses the worker: `.notFound` if it
    ///   does not exist or is deleted; the daemon's refusal of a view write (`.notFound`
    ///   for a view that does not exist, `.failedPrecondition` for a view of another
    ///   group, `.invalidArgument` for a document that is not JSON).
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await self.consume()
            }
        } catch is CancellationError {
            return
        }
    }

    private func consume() async throws {
        do {
            for try await delivery in self.subscription {
                let outcome = await ProcessTracing.traced(
                    delivery.event,
                    group: self.group,
                    attempt: delivery.attempt,
                    socketPath: self.subscription.options.socketPath
                ) {
                    await self.handle(delivery)
                }
                if case .interrupted = outcome { return }
            }
        } catch is CancellationError {
            return
        }
    }

    /// Runs the handler on one delivery and settles it: an ack when it returned, a nack
    /// (`.retry`, with the error as the reason) when it threw.
    private func handle(_ delivery: GroupDelivery) async -> ProcessTracing.Outcome {
        do {
            let writes = try await self.handler(delivery.event)
            if writes.isEmpty {
                await delivery.ack()
            } else {
                try await delivery.ack(writes: writes)
            }
            return .handled
        } catch {
            if Task.isCancelled { return .interrupted }
            await delivery.nack(.retry, reason: String(describing: error))
            return .failed(error)
        }
    }
}
