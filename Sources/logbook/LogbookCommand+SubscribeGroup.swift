internal import Logbook
internal import LogbookCommandLine

extension LogbookCommand.Subscribe {
    /// `subscribe --group`: one consumer of a persistent group that prints each event and
    /// acks it once printed.
    ///
    /// Events are printed and flushed a batch at a time, then the batch is acked: an ack
    /// never goes out for a line that is not on stdout yet. With `--confirmed`, the
    /// daemon's confirmation of each ack (its `Settled`) prints a line as it arrives, in
    /// the order the daemon confirmed them.
    func consume(group: String) async throws {
        let (json, maxInFlight, confirmed) = (self.global.json, self.maxInFlight, self.confirmed)
        // What was printed and not acked when interrupted comes again.
        try await self.global.withClientUntilInterrupted { client in
            let output = SharedOutput()
            defer { output.flush() }
            var deliveries = client.consume(group: group, maxInFlight: maxInFlight).makeAsyncIterator()
            var printed: [GroupDelivery] = []
            while let delivery = try await deliveries.next() {
                output.line { json ? EventJSON.append(delivery, to: &$0) : PlainText.append(delivery, to: &$0) }
                printed.append(delivery)
                guard !deliveries.hasBufferedDeliveries else { continue }
                output.flush()
                for delivery in printed {
                    if confirmed {
                        let event = delivery.event
                        delivery.ack { result in
                            guard case .success = result else { return }
                            output.line { json ? EventJSON.appendSettled(event, to: &$0) : PlainText.appendSettled(event, to: &$0) }
                            output.flush()
                        }
                    } else {
                        await delivery.ack()
                    }
                }
                printed.removeAll(keepingCapacity: true)
            }
        }
    }
}
