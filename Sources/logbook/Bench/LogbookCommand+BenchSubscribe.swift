internal import Logbook

extension LogbookCommand.Bench {
    /// `bench subscribe`: `--clients` subscribers follow `$all` from its end (filtered to this
    /// run's streams) while 50 connections append `--events` events, one per append; each
    /// subscriber receives every one of them. Latency is from the ``SendStamp`` in each event
    /// to its delivery (the append's own time included), and from its commit (the time the
    /// daemon stamped it with) to its delivery.
    func runSubscribe(_ harness: BenchHarness) async throws -> BenchReport {
        let (subscribers, perSubscriber) = (self.clients, self.eventCount)
        let prefix = "bench-\(BenchHarness.runID())-"
        let template = BenchHarness.payload(size: max(self.size, 8))
        let appenders = try await harness.connect(SendStamp.appenders, socketPath: self.appendersSocket)
        // Subscribers on this daemon; with --appenders-socket the appends reach another one.
        let follower = self.appendersSocket == nil ? appenders[0] : try await harness.connect(1)[0]
        // Generous: a run that loses an event fails instead of hanging.
        let timeout = Duration.seconds(60) + .milliseconds(perSubscriber * subscribers / 5)
        let (ready, isReady) = AsyncStream<Void>.makeStream()
        let measured = try await withThrowingTaskGroup(of: BenchHarness.Measured?.self) { group in
            for _ in 0..<subscribers {
                let subscription = follower.subscribe(.all, from: .end, filter: ReadFilter(streamPrefix: prefix))
                group.addTask {
                    var messages = subscription.makeAsyncIterator()
                    do {
                        while let message = try await messages.next(), !message.isCaughtUp {}
                    } catch {
                        isReady.yield()
                        throw error
                    }
                    isReady.yield()
                    var received = BenchHarness.Measured()
                    var sinceCommit = Latencies()
                    while received.count < perSubscriber, let message = try await messages.next() {
                        guard let event = message.event else { continue }
                        received.latencies.record(sinceStampIn: event.data)
                        sinceCommit.record(sinceCommitAt: event.timeUnixMicros)
                        received.count += 1
                    }
                    received.sinceCommit = sinceCommit
                    return received
                }
            }
            var readyCount = 0
            for await _ in ready {
                readyCount += 1
                if readyCount == subscribers { break }
            }
            let started = ContinuousClock.now
            group.addTask {
                try await SendStamp.append(template, total: perSubscriber, from: appenders) { appender, _ in "\(prefix)\(appender)" }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw LogbookError(code: .deadlineExceeded, message: "the subscribers did not receive all \(perSubscriber) events within \(timeout)")
            }
            var sum = BenchHarness.Measured()
            var (subscribersDone, appended) = (0, false)
            while subscribersDone < subscribers || !appended, let part = try await group.next() {
                guard let part else {
                    appended = true
                    continue
                }
                sum.latencies.add(part.latencies)
                if let sinceCommit = part.sinceCommit {
                    sum.sinceCommit = sum.sinceCommit ?? Latencies()
                    sum.sinceCommit?.add(sinceCommit)
                }
                sum.count += part.count
                subscribersDone += 1
                if subscribersDone == subscribers { sum.elapsed = ContinuousClock.now - started }
            }
            group.cancelAll()
            return sum
        }
        return BenchReport(
            workload: "subscribe",
            clients: subscribers,
            measured: measured,
            detail: "\(perSubscriber) events of \(template.count) bytes from \(appenders.count) appenders\(self.appendersSocket.map { " on \($0)" } ?? ""), 1 per append, delivered to each subscriber",
            latencyOf: "append→delivery"
        )
    }
}
