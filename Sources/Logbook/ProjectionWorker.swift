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
public struct ProjectionWorker: Sendable {
    /// The group the worker consumes.
    public let group: String
    private let subscription: GroupSubscription
    private let handler: @Sendable (RecordedEvent) async throws -> Void

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
        self.init(subscription: client.consume(group: group, maxInFlight: maxInFlight), handler: handler)
    }

    package init(subscription: GroupSubscription, handler: @escaping @Sendable (RecordedEvent) async throws -> Void) {
        self.group = subscription.group
        self.subscription = subscription
        self.handler = handler
    }

    /// Handles deliveries until the task is cancelled, then returns.
    ///
    /// Cancelling stops cleanly: a handler that finished is acked, one that was
    /// interrupted (it threw after the cancellation) is neither acked nor nacked, and
    /// what the worker held un-acked is delivered again, to it or another consumer.
    ///
    /// - Throws: ``LogbookError`` when the group refuses the worker: `.notFound` if it
    ///   does not exist or is deleted.
    public func run() async throws {
        do {
            for try await delivery in self.subscription {
                do {
                    try await self.handler(delivery.event)
                } catch {
                    if Task.isCancelled { return }
                    await delivery.nack(.retry, reason: String(describing: error))
                    continue
                }
                await delivery.ack()
            }
        } catch is CancellationError {
            return
        }
    }
}
