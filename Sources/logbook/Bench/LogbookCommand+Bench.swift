internal import ArgumentParser
internal import Logbook

extension LogbookCommand {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure append, read, subscribe, query and append-to-visible throughput and latency against a running logbookd.",
            discussion: """
                append: --clients connections append --events events in all, --batch (default \(Self.appendBatchDefault)) events \
                of --size bytes per append, each to its own stream; latency is per append.
                read: first tops the log up to --events events (appending the missing ones \
                in large batches), then the clients read the newest --events events of \
                $all, --batch (default \(Self.readBatchDefault)) events per read call; latency is per read call.
                subscribe: --clients subscribers follow $all from its end while \(SendStamp.appenders) connections \
                append --events events, one per append; each subscriber receives every one of \
                them; the rate counts deliveries to all subscribers together, and latency is \
                from before the append to the delivery (a send time stamped in the event).
                subscribe --group: the same appends, consumed instead by --clients consumers of a \
                temporary by-stream group on $all from its end (each event goes to one consumer, \
                which acks it); the rate counts events delivered and acked, and the group is \
                deleted afterwards.
                drain: appends --events events (--batch, default 500, per append) over \(Self.drainStreams) streams, \
                then --clients consumers of a temporary round-robin group from the first of them \
                consume and ack them all; the rate counts events acked and confirmed on disk, \
                from the group's creation; latency is from a delivery to its ack's confirmation.
                query: defines a temporary group and view (indexed on $.n), appends --docs events, \
                one per stream, acts as the group's worker putting each into the view, waits until \
                the view has them all, then --clients connections run --queries queries of one \
                random document, --by key or by an indexed predicate ($.n = N); the rate is \
                queries/s, latency per query.
                visible: one worker writes a view through its acks while one client appends \
                --events events (default \(Self.visibleEventsDefault)) and after each queries the view with min_position \
                = the append's position; latency is from before the append to the query's answer.
                Prints a summary; with --json one object \
                {"workload","clients","events","events_per_second","p50_us","p99_us","p999_us"}.
                """
        )

        enum Workload: String, ExpressibleByArgument, CaseIterable {
            case append
            case read
            case subscribe
            case drain
            case query
            case visible
        }

        /// `bench query --by`: how each query finds its document.
        enum QueryBy: String, ExpressibleByArgument, CaseIterable {
            case key
            case predicate
        }

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The workload to run.")
        var workload: Workload

        @Option(help: "Connections, each used by one task.")
        var clients = 4

        @Option(help: "Events in all (default \(Self.eventsDefault); visible: \(Self.visibleEventsDefault)).")
        var events: Int?

        @Option(help: "Bytes of data per event.")
        var size = 200

        @Option(help: "append: events per append (default \(Self.appendBatchDefault)); read: events per read call (default \(Self.readBatchDefault)); drain: events per append of the backlog (default 500).")
        var batch: Int?

        @Flag(help: "append: each append to a new stream of its own (what a stream costs the daemon).")
        var distinctStreams = false

        @Flag(help: "subscribe: consume a temporary persistent group instead of following $all.")
        var group = false

        @Flag(help: "Run each client's calls on the global executor instead of its connection's event loop (see LogbookClient.executor).")
        var unpinned = false

        @Option(help: "query: documents in the view.")
        var docs = 100_000

        @Option(help: "query: queries in all.")
        var queries = 10_000

        @Option(help: "query: find each document by key or by an indexed predicate.")
        var by: QueryBy = .key

        @Option(help: ArgumentHelp(
            "subscribe: the appenders connect to this daemon's socket instead (one sharing the store, as with --store postgresql://...): the latency then crosses daemons.",
            valueName: "path"), completion: .file())
        var appendersSocket: String?

        @Option(
            name: .customLong("consumers-socket"),
            help: ArgumentHelp(
                "drain: spread the consumers over this daemon's socket too (repeatable; daemons sharing the store, as with --store postgresql://...).",
                valueName: "path"),
            completion: .file())
        var consumersSockets: [String] = []

        /// Events in all without `--events`: enough for stable percentiles.
        static let eventsDefault = 10_000
        /// `bench visible` appends and queries one event at a time, so it runs fewer.
        static let visibleEventsDefault = 1000
        /// Events per append of `bench append`: one, the latency of a single append.
        static let appendBatchDefault = 1
        /// Events per read call of `bench read`: about one server batch.
        static let readBatchDefault = 500

        /// Events in all: `--events`, else the workload's default.
        var eventCount: Int {
            self.events ?? (self.workload == .visible ? Self.visibleEventsDefault : Self.eventsDefault)
        }

        func validate() throws {
            guard self.clients > 0 else { throw ValidationError("--clients must be positive") }
            if let events = self.events, events <= 0 { throw ValidationError("--events must be positive") }
            guard self.docs > 0 else { throw ValidationError("--docs must be positive") }
            guard self.queries > 0 else { throw ValidationError("--queries must be positive") }
            guard self.size >= 0 else { throw ValidationError("--size must not be negative") }
            if let batch = self.batch, batch <= 0 { throw ValidationError("--batch must be positive") }
            if self.group, self.workload != .subscribe { throw ValidationError("--group goes with bench subscribe") }
            if self.appendersSocket != nil, self.workload != .subscribe || self.group {
                throw ValidationError("--appenders-socket goes with bench subscribe (without --group)")
            }
            if !self.consumersSockets.isEmpty, self.workload != .drain {
                throw ValidationError("--consumers-socket goes with bench drain")
            }
        }

        func run() async throws {
            let report = try await BenchHarness.run(socketPath: self.global.socketPath, pinned: !self.unpinned) { harness in
                switch self.workload {
                case .append: try await self.runAppend(harness)
                case .read: try await self.runRead(harness)
                case .subscribe: try await (self.group ? self.runSubscribeGroup(harness) : self.runSubscribe(harness))
                case .drain: try await self.runDrain(harness)
                case .query: try await self.runQuery(harness)
                case .visible: try await self.runVisible(harness)
                }
            }
            var output = StandardOutput()
            output.line(self.global.json ? report.json : report.summary)
            output.flush()
        }
    }
}
