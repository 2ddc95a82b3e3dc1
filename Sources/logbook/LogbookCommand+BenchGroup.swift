import ArgumentParser
import Histogram
import Logbook
import Synchronization

extension LogbookCommand.Bench {
    /// Streams each appender spreads its events over in `bench subscribe --group`: under
    /// by_stream a stream has one event in flight at a time, so the streams, not the
    /// consumers, bound how much is on the way (50 appenders × 10 = 500 streams).
    static let groupStreamsPerAppender = 10

    /// Deliveries a consumer may hold: enough for one consumer to have an event of every
    /// stream on the way. The daemon confirms settlements once per storage write, so with
    /// the default (64) one consumer would be bound by 64 events per write, not by itself.
    static let groupMaxInFlight = 512

    /// `bench subscribe --group`: `--clients` consumers of a temporary by_stream group on
    /// `$all` from its end (filtered to this run's streams) consume and ack while 50
    /// connections append `--events` events, one per append.
    ///
    /// Latency is measured as in the catch-up mode, from the monotonic clock reading in the
    /// event's first 8 bytes to the delivery. The rate counts events delivered and acked,
    /// from the first append until the last event is delivered. The group is deleted at the
    /// end, whatever happened.
    func runSubscribeGroup() async throws -> BenchReport {
        let consumers = self.clients
        let total = self.eventCount
        let run = Self.runID()
        let prefix = "bench-\(run)-"
        let name = "bench-\(run)"
        let template = Self.payload(size: max(self.size, 8))
        let appenders = try await self.connect(count: Self.subscribeAppenders)
        let shares = Self.split(total, into: appenders.count)
        let clock = ContinuousClock()
        let timeout = Duration.seconds(60) + .milliseconds(total / 5)
        let admin = appenders[0]

        enum Part: Sendable {
            case consumer(Histogram<UInt64>)
            case appender
            case allDelivered
            /// A helper task that was cancelled at the end of the run.
            case idle
        }

        do {
            try await admin.createGroup(GroupSettings(
                name: name,
                selector: .all,
                start: .end,
                filter: ReadFilter(streamPrefix: prefix),
                strategy: .byStream,
                maxInFlight: Self.groupMaxInFlight
            ))
        } catch {
            await Self.close(appenders)
            throw Terminal.exitCode(reporting: error, socketPath: self.global.socketPath)
        }
        do {
            let delivered = Counter()
            let (done, doneContinuation) = AsyncStream<Void>.makeStream()
            let started = clock.now
            let (histogram, elapsed) = try await withThrowingTaskGroup(
                of: Part.self,
                returning: (Histogram<UInt64>, Duration).self
            ) { group in
                for _ in 0..<consumers {
                    let subscription = admin.consume(group: name)
                    group.addTask {
                        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
                        do {
                            for try await delivery in subscription {
                                let now = Self.monotonicNanoseconds()
                                let sent = Self.stamp(in: delivery.event.data)
                                _ = histogram.record(now >= sent ? (now - sent) / 1000 : 0)
                                await delivery.ack()
                                if delivered.value.wrappingAdd(1, ordering: .relaxed).newValue == total {
                                    doneContinuation.yield()
                                }
                            }
                        } catch is CancellationError {
                            // The run is over.
                        }
                        return .consumer(histogram)
                    }
                }
                for (index, client) in appenders.enumerated() {
                    let share = shares[index]
                    group.addTask {
                        var data = template
                        for sequence in 0..<share {
                            let stream = "\(prefix)\(index)-\(sequence % Self.groupStreamsPerAppender)"
                            Self.setStamp(Self.monotonicNanoseconds(), in: &data)
                            _ = try await client.append(to: stream, events: [EventData(type: "BenchEvent", data: data)])
                        }
                        return .appender
                    }
                }
                group.addTask {
                    for await _ in done { return .allDelivered }
                    return .idle
                }
                group.addTask {
                    do {
                        try await Task.sleep(for: timeout)
                    } catch {
                        return .idle
                    }
                    throw LogbookError(
                        code: .deadlineExceeded,
                        message: "the consumers did not receive all \(total) events within \(timeout)"
                    )
                }
                var elapsed = Duration.zero
                var merged = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
                var consumersDone = 0
                while consumersDone < consumers, let part = try await group.next() {
                    switch part {
                    case .allDelivered:
                        elapsed = clock.now - started
                        group.cancelAll()
                    case .consumer(let histogram):
                        merged.add(histogram)
                        consumersDone += 1
                    case .appender, .idle:
                        break
                    }
                }
                group.cancelAll()
                return (merged, elapsed)
            }
            try? await admin.deleteGroup(name)
            await Self.close(appenders)
            return BenchReport(
                workload: "subscribe-group",
                clients: consumers,
                events: total,
                elapsed: elapsed,
                histogram: histogram,
                detail: """
                    \(template.count)-byte events from \(appenders.count) appenders over \
                    \(appenders.count * Self.groupStreamsPerAppender) streams, 1 per append, \
                    delivered and acked by a by_stream group
                    """,
                latencyOf: "append→delivery"
            )
        } catch {
            try? await admin.deleteGroup(name)
            await Self.close(appenders)
            throw Terminal.exitCode(reporting: error, socketPath: self.global.socketPath)
        }
    }
}

/// Events delivered so far, across the benchmark's consumers.
private final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
