import ArgumentParser
import Dispatch
import Logbook
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension LogbookCommand.Subscribe {
    /// `subscribe --group`: one consumer of a persistent group that prints each event and
    /// acks it once printed.
    ///
    /// Events are printed and flushed a batch at a time, then the batch is acked: an ack
    /// never goes out for a line that is not on stdout yet. With `--confirmed`, the
    /// daemon's confirmation of each ack (its `Settled`) prints a line as it arrives, in
    /// the order the daemon confirmed them.
    func consume(group: String) async throws {
        let global = self.global
        let maxInFlight = self.maxInFlight
        let confirmed = self.confirmed
        // As for a catch-up subscription: one task, so SIGINT or SIGTERM ends it cleanly.
        let follow = Task {
            try await global.withClient { client in
                let output = SharedOutput()
                defer { output.flush() }
                var deliveries = client.consume(group: group, maxInFlight: maxInFlight).makeAsyncIterator()
                var printed: [GroupDelivery] = []
                do {
                    while let delivery = try await deliveries.next() {
                        output.line { out in
                            if global.json {
                                Self.appendJSON(delivery, to: &out)
                            } else {
                                LogbookCommand.Read.appendHuman(delivery.event, to: &out)
                                if delivery.attempt > 1 {
                                    out.append(contentsOf: " attempt=\(delivery.attempt)".utf8)
                                }
                            }
                        }
                        printed.append(delivery)
                        guard !deliveries.hasBufferedDeliveries else { continue }
                        output.flush()
                        for delivery in printed {
                            if confirmed {
                                let event = delivery.event
                                delivery.ack { result in
                                    guard case .success = result else { return }
                                    output.line { Self.appendSettled(event, json: global.json, to: &$0) }
                                    output.flush()
                                }
                            } else {
                                await delivery.ack()
                            }
                        }
                        printed.removeAll(keepingCapacity: true)
                    }
                } catch is CancellationError {
                    // Interrupted: a normal end. What was printed and not acked comes again.
                }
            }
        }
        let signals = Self.onInterrupt {
            follow.cancel()
            DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(2)) { _exit(0) }
        }
        defer { signals.forEach { $0.cancel() } }
        try await follow.value
    }

    /// An event as `read --json` prints it, plus `"delivery_id"` and `"attempt"`.
    static func appendJSON(_ delivery: GroupDelivery, to out: inout [UInt8]) {
        EventJSON.append(delivery.event, to: &out)
        out.removeLast()  // the closing brace
        out.append(contentsOf: #","delivery_id":"#.utf8)
        JSON.appendInteger(delivery.deliveryID, to: &out)
        out.append(contentsOf: #","attempt":"#.utf8)
        JSON.appendInteger(UInt64(delivery.attempt), to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// `{"settled":POSITION,"stream":…,"revision":…}`, or `settled #POSITION stream@revision`.
    static func appendSettled(_ event: RecordedEvent, json: Bool, to out: inout [UInt8]) {
        if json {
            out.append(contentsOf: #"{"settled":"#.utf8)
            JSON.appendInteger(event.position, to: &out)
            out.append(contentsOf: #","stream":"#.utf8)
            JSON.appendString(event.stream, to: &out)
            out.append(contentsOf: #","revision":"#.utf8)
            JSON.appendInteger(event.revision, to: &out)
            out.append(UInt8(ascii: "}"))
        } else {
            out.append(contentsOf: "settled #".utf8)
            JSON.appendInteger(event.position, to: &out)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: event.stream.utf8)
            out.append(UInt8(ascii: "@"))
            JSON.appendInteger(event.revision, to: &out)
        }
    }
}

/// ``StandardOutput`` shared by the consuming task and the confirmations that arrive on
/// the connection's event loop; each line is written whole.
final class SharedOutput: Sendable {
    private let output = Mutex(StandardOutput())

    func line(_ body: (inout [UInt8]) -> Void) {
        self.output.withLock { output in
            output.write(body)
            output.endLine()
        }
    }

    func flush() {
        self.output.withLock { $0.flush() }
    }
}
