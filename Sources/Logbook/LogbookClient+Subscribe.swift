extension LogbookClient {
    /// Subscribes to events: the history after `from`, a ``SubscriptionMessage/caughtUp(position:)``,
    /// then every event appended from then on, in position order.
    ///
    /// The subscription starts when the sequence is first iterated, on a connection of its
    /// own to the same socket, and survives daemon restarts; see ``Subscription``. Closing
    /// this client does not end it: stop iterating instead.
    ///
    /// ```swift
    /// var position = loadPosition()
    /// for try await message in client.subscribe(.category("order"), from: .after(position: position)) {
    ///     if let event = message.event { try await project(event) }
    ///     position = message.position
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - selector: What to follow: a stream, `$all`, a category or an event type.
    ///   - from: Where to start; the first event delivered is the one after it.
    ///   - filter: Keeps only some event types or stream-name prefixes; a filtered
    ///     subscription also gets ``SubscriptionMessage/checkpoint(position:)``s while the
    ///     server skips events, so a stored position need not rescan them.
    public func subscribe(
        _ selector: ReadSelector,
        from: SubscriptionStart = .start,
        filter: ReadFilter? = nil
    ) -> Subscription {
        self.subscribe(selector, from: from, filter: filter, configuration: .standard)
    }

    /// `subscribe` with its credit window and back-off chosen, for tests.
    package func subscribe(
        _ selector: ReadSelector,
        from: SubscriptionStart,
        filter: ReadFilter?,
        configuration: SubscriptionStateMachine.Configuration
    ) -> Subscription {
        Subscription(
            options: Subscription.Options(
                socketPath: self.shared.socketPath,
                clientName: self.shared.clientName,
                logger: self.shared.logger,
                selector: selector,
                from: from,
                filter: filter,
                configuration: configuration
            )
        )
    }
}
