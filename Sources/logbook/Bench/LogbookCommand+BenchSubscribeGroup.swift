internal import Logbook
internal import Synchronization

extension LogbookCommand.Bench {
    /// Streams each appender spreads its events over in `bench subscribe --group`: under
    /// by-stream a stream has one event in flight at a time, so the streams, not the
    /// consumers, bound how much is on the way (50 appenders × 10 = 500 streams).
    static let groupStreamsPerAppender = 10

    /// Deliveries a consumer may hold: enough for one consumer to have an event of every
    /// stream on the way. The daemon confirms settlements once per storage write, so with
    /// the default (64) one consumer would be bound by 64 events per write, not by itself.
    static let groupMaxInFlight = 512

    /// `bench subscribe --group`: `--clients` consumers of a temporary by-stream group on
    /// `$all` from its end (filtered to this run's streams) consume and ack while 50
    /// connections append `--events` events, one per append. The rate counts events
    /// delivered and acked, from the first append until the last is delivered; latency is
    /// from the ``SendStamp`` in each event to its delivery.
    func runSubscribeGroup(_ harness: BenchHarness) async throws -> BenchReport {
        let (consumers, total, run) = (self.clients, self.eventCount, BenchHarness.runID())
        let (prefix, name) = ("bench-\(run)-", "bench-\(run)")
        let template = BenchHarness.payload(size: max(self.size, 8))
        let appenders = try await harness.connect(SendStamp.appenders)
        let timeout = Duration.seconds(60) + .milliseconds(total / 5)
        let admin = appenders[0]
        try await admin.createGroup(GroupSettings(
            name: name, selector: .all, start: .end, filter: ReadFilter(streamPrefix: prefix),
            strategy: .byStream, maxInFlight: Self.groupMaxInFlight
        ))
        harness.onCleanUp { try? await admin.deleteGroup(name) }
        enum Part: Sendable {
            case consumer(Latencies)
            case allDelivered
            /// An appender, or a helper task that ended with the run.
            case other
        }
        let delivered = Counter()
        let (done, allDelivered) = AsyncStream<Void>.makeStream()
        let started = ContinuousClock.now
        let measured = try await withThrowingTaskGroup(of: Part.self) { group in
            for _ in 0..<consumers {
                let subscription = admin.consume(group: name)
                group.addTask {
                    var latencies = Latencies()
                    do {
                        for try await delivery in subscription {
                            latencies.record(sinceStampIn: delivery.event.data)
                            await delivery.ack()
                            if delivered.value.wrappingAdd(1, ordering: .relaxed).newValue == total { allDelivered.yield() }
                        }
                    } catch is CancellationError {
                        // The run is over.
                    }
                    return .consumer(latencies)
                }
            }
            group.addTask {
                try await SendStamp.append(template, total: total, from: appenders) { appender, sequence in
                    "\(prefix)\(appender)-\(sequence % Self.groupStreamsPerAppender)"
                }
                return .other
            }
            group.addTask {
                for await _ in done { return .allDelivered }
                return .other
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                } catch {
                    return .other
                }
                throw LogbookError(code: .deadlineExceeded, message: "the consumers did not receive all \(total) events within \(timeout)")
            }
            var sum = BenchHarness.Measured()
            var consumersDone = 0
            while consumersDone < consumers, let part = try await group.next() {
                switch part {
                case .allDelivered:
                    sum.count = total
                    sum.elapsed = ContinuousClock.now - started
                    group.cancelAll()
                case .consumer(let latencies):
                    sum.latencies.add(latencies)
                    consumersDone += 1
                case .other:
                    break
                }
            }
            group.cancelAll()
            return sum
        }
        return BenchReport(
            workload: "subscribe-group",
            clients: consumers,
            measured: measured,
            detail: """
                \(template.count)-byte events from \(appenders.count) appenders over \
                \(appenders.count * Self.groupStreamsPerAppender) streams, 1 per append, \
                delivered and acked by a by_stream group
                """,
            latencyOf: "append→delivery"
        )
    }
}

/// Events delivered so far, across the benchmark's consumers.
private final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
