extension LogbookClient {
    /// Joins a persistent subscription group as one of its consumers: the group's events
    /// arrive as ``GroupDelivery``s to ack or nack.
    ///
    /// The consumer joins when the sequence is first iterated, on a connection of its own
    /// to the same socket, and rejoins after a daemon restart; see ``GroupSubscription``.
    /// Closing this client does not end it: stop iterating instead. Delivery is
    /// at-least-once: what was not acked before a disconnection comes again.
    ///
    /// ```swift
    /// for try await delivery in client.consume(group: "orders-projection") {
    ///     do {
    ///         try await project(delivery.event)
    ///         await delivery.ack()
    ///     } catch {
    ///         await delivery.nack(.retry, reason: "\(error)")
    ///     }
    /// }
    /// ```
    ///
    /// ``ProjectionWorker`` runs this loop for you.
    ///
    /// - Parameters:
    ///   - group: The group's name; create it with ``createGroup(_:timeout:)``.
    ///   - maxInFlight: The most deliveries this consumer holds un-settled at once; nil
    ///     for the group's `maxInFlight`, and never more than it.
    public func consume(group: String, maxInFlight: Int? = nil) -> GroupSubscription {
        self.consume(group: group, maxInFlight: maxInFlight, configuration: .standard)
    }

    /// `consume` with its back-off chosen, for tests.
    package func consume(group: String, maxInFlight: Int?, configuration: SubscriptionStateMachine.Configuration) -> GroupSubscription {
        GroupSubscription(
            options: GroupSubscription.Options(
                socketPath: self.shared.socketPath,
                clientName: self.shared.clientName,
                logger: self.shared.logger,
                group: group,
                maxInFlight: maxInFlight.map { max(1, $0) },
                configuration: configuration
            )
        )
    }
}
