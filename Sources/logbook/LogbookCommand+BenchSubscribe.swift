import ArgumentParser
import Histogram
import Logbook

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension LogbookCommand.Bench {
    /// Connections that append while the subscribers follow, as issue 3 asks ("under 50
    /// appending clients").
    static let subscribeAppenders = 50

    /// `bench subscribe`: `--clients` subscribers follow `$all` from its end (filtered to
    /// this run's streams) while 50 connections append `--events` events, one per append.
    ///
    /// Each event carries the monotonic clock reading taken just before its append, in its
    /// first 8 bytes; a subscriber subtracts it from the time it receives the event. The
    /// appenders and subscribers share the host's clock, so the latency is append →
    /// commit → delivery as a projection would see it.
    func runSubscribe() async throws -> BenchReport {
        let subscribers = self.clients
        let perSubscriber = self.eventCount
        let run = Self.runID()
        let prefix = "bench-\(run)-"
        let template = Self.payload(size: max(self.size, 8))
        let appenders = try await self.connect(count: Self.subscribeAppenders)
        let shares = Self.split(self.eventCount, into: appenders.count)
        let clock = ContinuousClock()
        // Generous: a run that loses an event fails instead of hanging.
        let timeout = Duration.seconds(60) + .milliseconds(perSubscriber * subscribers / 5)

        enum Part: Sendable {
            case subscriber(Histogram<UInt64>, Int)
            case appender
        }

        do {
            let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
            let (histogram, delivered, elapsed) = try await withThrowingTaskGroup(
                of: Part.self,
                returning: (Histogram<UInt64>, Int, Duration).self
            ) { group in
                for _ in 0..<subscribers {
                    let subscription = appenders[0].subscribe(.all, from: .end, filter: ReadFilter(streamPrefix: prefix))
                    group.addTask {
                        var messages = subscription.makeAsyncIterator()
                        do {
                            while let message = try await messages.next(), !message.isCaughtUp {}
                        } catch {
                            readyContinuation.yield()
                            throw error
                        }
                        readyContinuation.yield()
                        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
                        var received = 0
                        while received < perSubscriber, let message = try await messages.next() {
                            guard let event = message.event else { continue }
                            let now = Self.monotonicNanoseconds()
                            let sent = Self.stamp(in: event.data)
                            _ = histogram.record(now >= sent ? (now - sent) / 1000 : 0)
                            received += 1
                        }
                        return .subscriber(histogram, received)
                    }
                }
                var readyCount = 0
                for await _ in ready {
                    readyCount += 1
                    if readyCount == subscribers { break }
                }
                let started = clock.now
                for (index, client) in appenders.enumerated() {
                    let share = shares[index]
                    group.addTask {
                        let stream = "\(prefix)\(index)"
                        var data = template
                        for _ in 0..<share {
                            Self.setStamp(Self.monotonicNanoseconds(), in: &data)
                            _ = try await client.append(to: stream, events: [EventData(type: "BenchEvent", data: data)])
                        }
                        return .appender
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw LogbookError(
                        code: .deadlineExceeded,
                        message: "the subscribers did not receive all \(perSubscriber) events within \(timeout)"
                    )
                }
                var merged = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
                var delivered = 0
                var subscribersDone = 0
                var appendersDone = 0
                var elapsed = Duration.zero
                while subscribersDone < subscribers || appendersDone < appenders.count, let part = try await group.next() {
                    switch part {
                    case .subscriber(let histogram, let received):
                        merged.add(histogram)
                        delivered += received
                        subscribersDone += 1
                        if subscribersDone == subscribers { elapsed = clock.now - started }
                    case .appender:
                        appendersDone += 1
                    }
                }
                group.cancelAll()
                return (merged, delivered, elapsed)
            }
            await Self.close(appenders)
            return BenchReport(
                workload: "subscribe",
                clients: subscribers,
                events: delivered,
                elapsed: elapsed,
                histogram: histogram,
                detail: "\(perSubscriber) events of \(template.count) bytes from \(appenders.count) appenders, 1 per append, delivered to each subscriber",
                latencyOf: "append→delivery"
            )
        } catch {
            await Self.close(appenders)
            throw Terminal.exitCode(reporting: error, socketPath: self.global.socketPath)
        }
    }

    /// CLOCK_MONOTONIC in nanoseconds: the same clock in every process on the host.
    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Writes the send time into the first 8 bytes, big-endian.
    static func setStamp(_ nanoseconds: UInt64, in data: inout [UInt8]) {
        for index in 0..<8 {
            data[index] = UInt8(truncatingIfNeeded: nanoseconds >> (56 - 8 * UInt64(index)))
        }
    }

    /// The send time in an event's first 8 bytes; 0 when it has fewer.
    static func stamp(in data: [UInt8]) -> UInt64 {
        guard data.count >= 8 else { return 0 }
        var value: UInt64 = 0
        for index in 0..<8 {
            value = value << 8 | UInt64(data[index])
        }
        return value
    }
}
