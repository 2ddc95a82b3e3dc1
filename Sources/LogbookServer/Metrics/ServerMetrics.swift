internal import CoreMetrics
internal import LogbookStorage
internal import LogbookWire
package import Prometheus
internal import Synchronization

/// The daemon's metrics (DESIGN §11), kept with swift-metrics in a Prometheus registry
/// and printed in Prometheus's text format by `logbook metrics` (Admin) and by
/// `logbookd --metrics-listen`'s `GET /metrics`.
///
/// What moves with each request (appends, calls, queries) is recorded as it happens, on
/// the event loops, with atomics and one lock per histogram observation: nothing per
/// event. What is a state (the head, the groups, the disk) is read when someone scrapes.
/// The stores' writers record their commits (`CommitMetrics`) through the process's
/// `MetricsSystem`, which logbookd bootstraps with `factory`, so they land in the same
/// registry.
package final class ServerMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    /// Makes swift-metrics' handles in `registry`, with this daemon's histogram buckets.
    package let factory: PrometheusMetricsFactory

    /// The kinds of call `logbook_open_calls` counts (appends and lookups never stay open).
    enum CallKind: String, CaseIterable {
        case read, subscribe, consume, query, admin, backup
    }

    private let appends: CoreMetrics.Counter
    private let appendErrors: CoreMetrics.Counter
    private let eventsAppended: CoreMetrics.Counter
    private let bytesAppended: CoreMetrics.Counter
    private let appendDuration: CoreMetrics.Timer
    private let queryDuration: CoreMetrics.Timer
    private let openCalls: [CallKind: Meter]
    /// The group and view labels of the last scrape, to drop those gone since.
    private let labelled = Mutex<Set<Labelled>>([])

    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        let latency: [Duration] = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        ]
        factory.defaultDurationHistogramBuckets = latency
        factory.valueHistogramBuckets[CommitMetrics.eventsLabel] = (0...12).map { Double(1 << $0) }
        self.factory = factory
        self.appends = CoreMetrics.Counter(label: "logbook_appends_total", factory: factory)
        self.appendErrors = CoreMetrics.Counter(label: "logbook_append_errors_total", factory: factory)
        self.eventsAppended = CoreMetrics.Counter(label: "logbook_events_appended_total", factory: factory)
        self.bytesAppended = CoreMetrics.Counter(label: "logbook_appended_bytes_total", factory: factory)
        self.appendDuration = CoreMetrics.Timer(label: "logbook_append_duration_seconds", factory: factory)
        self.queryDuration = CoreMetrics.Timer(label: "logbook_query_duration_seconds", factory: factory)
        self.openCalls = Dictionary(
            uniqueKeysWithValues: CallKind.allCases.map { kind in
                (kind, Meter(label: "logbook_open_calls", dimensions: [("kind", kind.rawValue)], factory: factory))
            })
    }

    // MARK: As it happens

    /// An append answered: `events` events of `bytes` bytes of data when it succeeded.
    func appendAnswered(succeeded: Bool, events: Int, bytes: Int, since start: ContinuousClock.Instant) {
        self.appendDuration.record(since: start)
        guard succeeded else {
            self.appendErrors.increment()
            return
        }
        self.appends.increment()
        self.eventsAppended.increment(by: events)
        self.bytesAppended.increment(by: bytes)
    }

    /// A query answered (or refused), by a lookup on the event loop or a call.
    func queryAnswered(since start: ContinuousClock.Instant) {
        self.queryDuration.record(since: start)
    }

    /// An append refused before it reached the writer.
    func appendRefused() {
        self.appendErrors.increment()
    }

    func callStarted(_ kind: CallKind) {
        self.openCalls[kind]?.increment()
    }

    func callEnded(_ kind: CallKind) {
        self.openCalls[kind]?.decrement()
    }

    static func kind(of body: Frame.Body?) -> CallKind? {
        switch body {
        case .readRequest: .read
        case .subscribeRequest(let request):
            switch request.target {
            case .group: .consume
            case .catchUp, nil: .subscribe
            }
        case .queryRequest: .query
        case .adminRequest: .admin
        case .backupRequest: .backup
        default: nil
        }
    }

    // MARK: When scraped

    /// The text exposition, after reading every state metric afresh.
    func exposition(store: any ServedStore, groups: GroupManager, views: ViewCatalog, stats: ServerStats) async -> String {
        let groupInfos = (try? await groups.list()) ?? []
        let viewList = (try? await views.list()) ?? []
        let head = store.headPosition
        var present = Set<Labelled>()
        func gauge(_ label: String, _ dimensions: [(String, String)], _ value: some BinaryInteger) {
            Gauge(label: label, dimensions: dimensions, factory: self.factory).record(value)
        }
        gauge("logbook_head_position", [], head)
        gauge("logbook_connections", [], stats.connections)
        gauge("logbook_writer_ok", [], store.writerFailure == nil ? 1 : 0)
        gauge("logbook_uptime_seconds", [], stats.uptime.components.seconds)
        for (part, bytes) in store.diskUsage() {
            gauge("logbook_disk_bytes", [("part", part)], bytes)
        }
        var lagByGroup: [String: UInt64] = [:]
        for info in groupInfos {
            guard let name = info.settings?.name else { continue }
            lagByGroup[name] = info.lag
            for (label, value) in [
                ("logbook_group_lag", info.lag), ("logbook_group_in_flight", UInt64(info.inFlight)),
                ("logbook_group_parked", info.parked), ("logbook_group_consumers", UInt64(info.consumers)),
            ] {
                gauge(label, [("group", name)], value)
                present.insert(Labelled(label: label, key: "group", value: name))
            }
        }
        for view in viewList {
            gauge("logbook_view_lag", [("view", view.name)], lagByGroup[view.group] ?? head)
            present.insert(Labelled(label: "logbook_view_lag", key: "view", value: view.name))
        }
        self.forgetAllBut(present)
        return self.registry.emitToString()
    }

    /// A labelled gauge of a group or view that is gone no longer shows.
    private func forgetAllBut(_ present: Set<Labelled>) {
        let gone = self.labelled.withLock { labelled in
            defer { labelled = present }
            return labelled.subtracting(present)
        }
        for labelled in gone {
            Gauge(label: labelled.label, dimensions: [(labelled.key, labelled.value)], factory: self.factory).destroy()
        }
    }

    private struct Labelled: Hashable {
        var label, key, value: String
    }
}
