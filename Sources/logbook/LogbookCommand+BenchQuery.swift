import ArgumentParser
import Histogram
import Logbook
import Synchronization

extension LogbookCommand.Bench {
    /// Streams (and so documents) per multi-stream append while `bench query` fills its view.
    static let queryFillStreamsPerAppend = 500

    /// Deliveries the filling worker may hold: its group is by_stream over one stream per
    /// document, so this, not stream order, bounds what is on the way.
    static let queryWorkerMaxInFlight = 1024

    /// How long `bench query` waits for its worker to put every document in the view.
    static let queryFillTimeout = Duration.seconds(1800)

    /// `bench query`: a temporary group over category `benchq<run>` and its view (indexed on
    /// `$.n`); `--docs` events `{"n": i}`, one per stream, put into the view by a worker in
    /// this process, each through its ack; once a query with `min_position` = the last
    /// append's position answers, `--clients` connections run `--queries` queries of one
    /// random document by key or by `$.n = i`. The view and group are removed afterwards.
    func runQuery() async throws -> BenchReport {
        let run = Self.runID()
        let category = "benchq\(run)"
        let (group, view) = ("bench-q-\(run)", "bench_q_\(run)")
        let (docs, queries, by) = (self.docs, self.queries, self.by)
        let connections = try await self.connect()
        let admin = connections[0]
        let clock = ContinuousClock()
        do {
            try await admin.createGroup(GroupSettings(name: group, selector: .category(category), maxInFlight: Self.queryWorkerMaxInFlight))
            try await admin.defineView(ViewDefinition(name: view, group: group, indexedPaths: ["$.n"]))
        } catch {
            await Self.removeView(view, group: group, using: admin)
            await Self.close(connections)
            throw Terminal.exitCode(reporting: error, socketPath: self.global.socketPath)
        }
        let workerEnd = Mutex<String?>(nil)
        let worker = Task {
            do {
                try await ProjectionWorker.writingViews(client: admin, group: group, maxInFlight: Self.queryWorkerMaxInFlight) { event in
                    [.put(view, key: event.stream, json: String(decoding: event.data, as: UTF8.self))]
                }.run()
                workerEnd.withLock { $0 = "it returned" }
            } catch {
                workerEnd.withLock { $0 = "\(error)" }
            }
        }
        do {
            var last: AppendResult?
            var next = 0
            while next < docs {
                let count = min(Self.queryFillStreamsPerAppend, docs - next)
                let appends = (next..<(next + count)).map { index in
                    StreamAppend(stream: "\(category)-\(index)", events: [EventData(type: "BenchDoc", json: #"{"n":\#(index)}"#)])
                }
                last = try await admin.append(appends).last
                next += count
            }
            let filled = clock.now + Self.queryFillTimeout
            while true {
                do {
                    _ = try await admin.query(ViewQuery(view, limit: 1, consistentWith: try require(last), wait: .seconds(10)))
                    break
                } catch let error as LogbookError where error.code == .deadlineExceeded && clock.now < filled {
                    if let end = workerEnd.withLock({ $0 }) {
                        throw LogbookError(code: .internalError, message: "the worker filling the view stopped: \(end)")
                    }
                    continue
                }
            }
            worker.cancel()
            await worker.value

            let shares = Self.split(queries, into: connections.count)
            let started = clock.now
            let histogram = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { tasks in
                for (index, client) in connections.enumerated() {
                    let share = shares[index]
                    tasks.addTask {
                        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
                        for _ in 0..<share {
                            let n = Int.random(in: 0..<docs)
                            let query =
                                switch by {
                                case .key: ViewQuery(view, keys: .key("\(category)-\(n)"))
                                case .predicate: ViewQuery(view, where: [.equal("$.n", .number(n))])
                                }
                            let sent = clock.now
                            let page = try await client.query(query)
                            _ = histogram.record(Self.microseconds(clock.now - sent))
                            guard page.rows.count == 1 else {
                                throw LogbookError(code: .internalError, message: "document \(n) came back as \(page.rows.count) rows")
                            }
                        }
                        return histogram
                    }
                }
                var merged = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
                for try await histogram in tasks { merged.add(histogram) }
                return merged
            }
            let elapsed = clock.now - started
            await Self.removeView(view, group: group, using: admin)
            await Self.close(connections)
            return BenchReport(
                workload: "query-\(by.rawValue)",
                clients: connections.count,
                events: queries,
                elapsed: elapsed,
                histogram: histogram,
                detail: "one document of \(docs) per query, by " + (by == .key ? "key" : "indexed predicate $.n = N"),
                latencyOf: "query",
                unit: "queries"
            )
        } catch {
            worker.cancel()
            await Self.removeView(view, group: group, using: admin)
            await Self.close(connections)
            throw Terminal.exitCode(reporting: error, socketPath: self.global.socketPath)
        }
    }

    /// `bench visible`: a worker in this process puts each event of category `benchv<run>`
    /// into a view through its ack, while one client appends `--events` events, one at a
    /// time, and after each queries the view for it with `min_position` = its position.
    /// Latency is from before the append to the query's answer.
    func runVisible() async throws -> BenchReport {
        let run = Self.runID()
        let category = "benchv\(run)"
        let (group, view) = ("bench-v-\(run)", "bench_v_\(run)")
        let total = self.eventCount
        let connections = try await self.connect(count: 2)
        let (admin, appender) = (connections[0], connections[1])
        let clock = ContinuousClock()
        do {
            try await admin.createGroup(GroupSettings(name: group, selector: .category(category), start: .end))
            try await admin.defineView(ViewDefinition(name: view, group: group))
        } catch {
            await Self.removeView(view, group: group, using: admin)
            await Self.close(connections)
            throw Terminal.exitCode(reporting: error, socketPath: self.global.socketPath)
        }
        let worker = Task {
            try await ProjectionWorker.writingViews(client: admin, group: group) { event in
                [.put(view, key: event.stream, json: String(decoding: event.data, as: UTF8.self))]
            }.run()
        }
        do {
            var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
            let started = clock.now
            for index in 0..<total {
                let stream = "\(category)-\(index % 10)"
                let sent = clock.now
                let result = try await appender.append(to: stream, events: [EventData(type: "BenchVisible", json: #"{"i":\#(index)}"#)])
                let page = try await appender.query(ViewQuery(view, keys: .key(stream), consistentWith: result, wait: .seconds(30)))
                _ = histogram.record(Self.microseconds(clock.now - sent))
                guard page.rows.first?.json == #"{"i":\#(index)}"# else {
                    throw LogbookError(code: .internalError, message: "the view did not show append \(index) at its position: \(page.rows)")
                }
            }
            let elapsed = clock.now - started
            worker.cancel()
            _ = try? await worker.value
            await Self.removeView(view, group: group, using: admin)
            await Self.close(connections)
            return BenchReport(
                workload: "visible",
                clients: 1,
                events: total,
                elapsed: elapsed,
                histogram: histogram,
                detail: "append then query with min_position, one worker writing the view through its acks",
                latencyOf: "append→visible"
            )
        } catch {
            worker.cancel()
            await Self.removeView(view, group: group, using: admin)
            await Self.close(connections)
            throw Terminal.exitCode(reporting: error, socketPath: self.global.socketPath)
        }
    }

    /// Drops a benchmark's view and deletes its group, whatever state they are in.
    static func removeView(_ view: String, group: String, using client: LogbookClient) async {
        try? await client.dropView(view)
        try? await client.deleteGroup(group)
    }
}

/// `#require` for the benchmark: a value that must be there.
private func require<T>(_ value: T?) throws -> T {
    guard let value else { throw LogbookError(code: .internalError, message: "nothing was appended") }
    return value
}
