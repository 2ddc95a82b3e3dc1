import ArgumentParser
import Histogram
import Logbook

extension LogbookCommand {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure append, read, subscribe and query throughput and latency against a running logbookd.",
            discussion: """
                append: --clients connections append --events events in all, --batch (default 1) events \
                of --size bytes per append, each to its own stream; latency is per append.
                read: first tops the log up to --events events (appending the missing ones \
                in large batches), then the clients read the newest --events events of \
                $all, --batch (default 500) events per read call; latency is per read call.
                subscribe: --clients subscribers follow $all from its end while 50 connections \
                append --events events, one per append; each subscriber receives every one of \
                them; the rate counts deliveries to all subscribers together, and latency is \
                from before the append to the delivery (a send time stamped in the event).
                subscribe --group: the same appends, consumed instead by --clients consumers of a \
                temporary by_stream group on $all from its end (each event goes to one consumer, \
                which acks it); the rate counts events delivered and acked, and the group is \
                deleted afterwards.
                query: defines a temporary group and view (indexed on $.n), appends --docs events \
                (default 100000), one per stream, acts as the group's worker putting each into the \
                view, waits until the view has them all, then --clients connections run --queries \
                queries (default 10000) of one random document, --by key (default) or by an indexed \
                predicate ($.n = N); the rate is queries/s, latency per query.
                visible: one worker writes a view through its acks while one client appends \
                --events events (default 1000) and after each queries the view with min_position \
                = the append's position; latency is from before the append to the query's answer.
                Prints a summary; with --json one object \
                {"workload","clients","events","events_per_second","p50_us","p99_us","p999_us"}.
                """
        )

        enum Workload: String, ExpressibleByArgument, CaseIterable {
            case append
            case read
            case subscribe
            case query
            case visible
        }

        /// `bench query --by`: how each query finds its document.
        enum QueryBy: String, ExpressibleByArgument, CaseIterable {
            case key
            case predicate
        }

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The workload: append, read, subscribe, query or visible.")
        var workload: Workload

        @Option(help: "Connections, each used by one task.")
        var clients = 4

        @Option(help: "Events in all (visible: default 1000).")
        var events: Int?

        @Option(help: "Bytes of data per event.")
        var size = 200

        @Option(help: "Events per append (default 10), or per read call (default 500).")
        var batch: Int?

        @Flag(help: "subscribe: consume a temporary persistent group instead of following $all.")
        var group = false

        @Option(help: "query: documents in the view.")
        var docs = 100_000

        @Option(help: "query: queries in all.")
        var queries = 10_000

        @Option(help: "query: find each document by key or by an indexed predicate.")
        var by: QueryBy = .key

        /// Events in all: `--events`, else the workload's default.
        var eventCount: Int {
            self.events ?? (self.workload == .visible ? 1000 : 10_000)
        }

        func validate() throws {
            guard self.clients > 0 else { throw ValidationError("--clients must be positive") }
            if let events = self.events, events <= 0 { throw ValidationError("--events must be positive") }
            guard self.docs > 0 else { throw ValidationError("--docs must be positive") }
            guard self.queries > 0 else { throw ValidationError("--queries must be positive") }
            guard self.size >= 0 else { throw ValidationError("--size must not be negative") }
            if let batch = self.batch, batch <= 0 { throw ValidationError("--batch must be positive") }
            if self.group, self.workload != .subscribe { throw ValidationError("--group goes with bench subscribe") }
        }

        func run() async throws {
            let report: BenchReport
            switch self.workload {
            case .append:
                report = try await self.runAppend()
            case .read:
                report = try await self.runRead()
            case .subscribe:
                report = try await (self.group ? self.runSubscribeGroup() : self.runSubscribe())
            case .query:
                report = try await self.runQuery()
            case .visible:
                report = try await self.runVisible()
            }
            var output = StandardOutput()
            output.line(self.global.json ? report.json : report.summary)
            output.flush()
        }

        // MARK: Workloads

        private func runAppend() async throws -> BenchReport {
            let batch = self.batch ?? 1
            let payload = Self.payload(size: self.size)
            let run = Self.runID()
            let shares = Self.split(self.eventCount, into: self.clients)
            let connections = try await self.connect()
            let clock = ContinuousClock()
            let started = clock.now
            let histogram: Histogram<UInt64>
            do {
                histogram = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
                    for (index, client) in connections.enumerated() {
                        let share = shares[index]
                        group.addTask {
                            var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
                            let stream = "bench-\(run)-\(index)"
                            var remaining = share
                            while remaining > 0 {
                                let count = min(batch, remaining)
                                var events: [EventData] = []
                                events.reserveCapacity(count)
                                for _ in 0..<count {
                                    events.append(EventData(type: "BenchEvent", data: payload))
                                }
                                let sent = clock.now
                                _ = try await client.append(to: stream, events: events)
                                _ = histogram.record(Self.microseconds(clock.now - sent))
                                remaining -= count
                            }
                            return histogram
                        }
                    }
                    return try await Self.merge(group)
                }
            } catch {
                await Self.close(connections)
                throw Terminal.exitCode(reporting: error, socketPath: self.global.socketPath)
            }
            let elapsed = clock.now - started
            await Self.close(connections)
            return BenchReport(
                workload: "append",
                clients: self.clients,
                events: self.eventCount,
                elapsed: elapsed,
                histogram: histogram,
                detail: "\(self.size)-byte events, \(batch) per append",
                latencyOf: "append"
            )
        }

        private func runRead() async throws -> BenchReport {
            let batch = self.batch ?? 500
            let connections = try await self.connect()
            let clock = ContinuousClock()
            do {
                let last = try await self.fill(connections)
                let first = last - UInt64(self.eventCount) + 1
                let shares = Self.split(self.eventCount, into: self.clients)
                let started = clock.now
                let (histogram, read) = try await withThrowingTaskGroup(of: (Histogram<UInt64>, Int).self) { group in
                    var start = first
                    for (index, client) in connections.enumerated() {
                        let share = shares[index]
                        let clientStart = start
                        start += UInt64(share)
                        group.addTask {
                            var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
                            var next = clientStart
                            var remaining = share
                            var read = 0
                            while remaining > 0 {
                                let sent = clock.now
                                var count = 0
                                var lastPosition = next
                                for try await event in client.read(.all, from: .position(next), limit: min(batch, remaining)) {
                                    count += 1
                                    lastPosition = event.position
                                }
                                _ = histogram.record(Self.microseconds(clock.now - sent))
                                guard count > 0 else { break }
                                read += count
                                remaining -= count
                                next = lastPosition + 1
                            }
                            return (histogram, read)
                        }
                    }
                    var merged = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
                    var total = 0
                    for try await (histogram, read) in group {
                        merged.add(histogram)
                        total += read
                    }
                    return (merged, total)
                }
                let elapsed = clock.now - started
                await Self.close(connections)
                return BenchReport(
                    workload: "read",
                    clients: self.clients,
                    events: read,
                    elapsed: elapsed,
                    histogram: histogram,
                    detail: "positions \(first)–\(last) of $all, \(batch) per read call",
                    latencyOf: "read call"
                )
            } catch {
                await Self.close(connections)
                throw Terminal.exitCode(reporting: error, socketPath: self.global.socketPath)
            }
        }

        /// Tops the log up to `--events` events and returns its last position.
        private func fill(_ connections: [LogbookClient]) async throws -> UInt64 {
            let last = try await Self.lastPosition(connections[0])
            guard last < UInt64(self.eventCount) else { return last }
            let missing = self.eventCount - Int(last)
            let limits = connections[0].serverInfo.limits
            var batchMax = 1000
            if limits.eventsPerAppendMax > 0 { batchMax = min(batchMax, limits.eventsPerAppendMax) }
            if limits.frameBytesMax > 0 { batchMax = min(batchMax, max(1, limits.frameBytesMax / 2 / (self.size + 128))) }
            let perAppend = batchMax
            let payload = Self.payload(size: self.size)
            let run = Self.runID()
            let shares = Self.split(missing, into: connections.count)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, client) in connections.enumerated() {
                    let share = shares[index]
                    group.addTask {
                        var remaining = share
                        while remaining > 0 {
                            let count = min(perAppend, remaining)
                            let events = (0..<count).map { _ in EventData(type: "BenchEvent", data: payload) }
                            _ = try await client.append(to: "bench-\(run)-fill-\(index)", events: events)
                            remaining -= count
                        }
                    }
                }
                try await group.waitForAll()
            }
            return try await Self.lastPosition(connections[0])
        }

        private static func lastPosition(_ client: LogbookClient) async throws -> UInt64 {
            for try await event in client.read(.all, direction: .backwards, limit: 1) {
                return event.position
            }
            return 0
        }

        // MARK: Helpers

        func connect(count: Int? = nil) async throws -> [LogbookClient] {
            var connections: [LogbookClient] = []
            for index in 0..<(count ?? self.clients) {
                do {
                    connections.append(
                        try await LogbookClient.connect(socketPath: self.global.socketPath, clientName: "logbook-bench-\(index)")
                    )
                } catch {
                    await Self.close(connections)
                    throw Terminal.exitCode(reporting: error, socketPath: self.global.socketPath)
                }
            }
            return connections
        }

        static func close(_ connections: [LogbookClient]) async {
            for client in connections {
                await client.close()
            }
        }

        private static func merge(_ group: ThrowingTaskGroup<Histogram<UInt64>, any Error>) async throws -> Histogram<UInt64> {
            var merged = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
            for try await histogram in group {
                merged.add(histogram)
            }
            return merged
        }

        /// `total` split into `parts` shares that differ by at most one.
        static func split(_ total: Int, into parts: Int) -> [Int] {
            (0..<parts).map { total / parts + ($0 < total % parts ? 1 : 0) }
        }

        static func payload(size: Int) -> [UInt8] {
            var generator = SystemRandomNumberGenerator()
            return (0..<size).map { _ in UInt8.random(in: 0x20...0x7E, using: &generator) }
        }

        static func runID() -> String {
            String(UInt32.random(in: 0...UInt32.max), radix: 36)
        }

        static func microseconds(_ duration: Duration) -> UInt64 {
            let (seconds, attoseconds) = duration.components
            return UInt64(max(0, seconds)) * 1_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000_000)
        }
    }
}

/// What a benchmark measured.
struct BenchReport {
    var workload: String
    var clients: Int
    var events: Int
    var elapsed: Duration
    var histogram: Histogram<UInt64>
    var detail: String
    var latencyOf: String
    /// What `events` counts, for the summary: events, or queries.
    var unit = "events"

    var seconds: Double {
        let (seconds, attoseconds) = self.elapsed.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    var eventsPerSecond: Double {
        self.seconds > 0 ? Double(self.events) / self.seconds : 0
    }

    var json: String {
        let rate = (self.eventsPerSecond * 10).rounded() / 10
        return """
            {"workload":"\(self.workload)","clients":\(self.clients),"events":\(self.events),\
            "events_per_second":\(rate),"p50_us":\(self.histogram.valueAtPercentile(50)),\
            "p99_us":\(self.histogram.valueAtPercentile(99)),"p999_us":\(self.histogram.valueAtPercentile(99.9))}
            """
    }

    var summary: String {
        """
        bench \(self.workload): \(self.events) \(self.unit), \(self.clients) clients, \(self.detail)
          \(Self.fixed(self.seconds, 3)) s, \(Int(self.eventsPerSecond.rounded())) \(self.unit)/s
          latency per \(self.latencyOf): p50 \(Self.time(self.histogram.valueAtPercentile(50))) \
        p99 \(Self.time(self.histogram.valueAtPercentile(99))) \
        p99.9 \(Self.time(self.histogram.valueAtPercentile(99.9))) \
        max \(Self.time(self.histogram.max)) (\(self.histogram.totalCount) calls)
        """
    }

    private static func time(_ microseconds: UInt64) -> String {
        microseconds < 1000 ? "\(microseconds) µs" : "\(Self.fixed(Double(microseconds) / 1000, 2)) ms"
    }

    private static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        let whole = scaled / Int(scale)
        let fraction = String(scaled % Int(scale))
        return "\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}
