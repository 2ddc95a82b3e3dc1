package import CoreMetrics

/// What each store's writer reports of its group commits (DESIGN §11), through
/// swift-metrics: how many events each commit carried, and how long its sync took.
///
/// The handles come from the process's `MetricsSystem`: logbookd bootstraps it with its
/// Prometheus registry before it opens a store; anywhere else (the storage tests) they
/// are swift-metrics' no-ops. Both are recorded once per commit, never per event.
package struct CommitMetrics: Sendable {
    /// `logbook_commit_events`: the events of one group commit (new ones; an idempotent
    /// retry adds none).
    package static let eventsLabel = "logbook_commit_events"
    /// `logbook_fsync_duration_seconds`: what makes one commit durable. For the log
    /// engine, one `fdatasync` of a segment; for the SQLite engine, the COMMIT of a group
    /// commit, most of which is its WAL sync; for PostgreSQL, the COMMIT's round trip.
    package static let syncLabel = "logbook_fsync_duration_seconds"

    private let events: Recorder
    private let sync: CoreMetrics.Timer

    /// `store`: the `store` label's value, `log`, `sqlite` or `postgresql`.
    package init(store: String) {
        let dimensions = [("store", store)]
        self.events = Recorder(label: Self.eventsLabel, dimensions: dimensions, aggregate: true)
        self.sync = CoreMetrics.Timer(label: Self.syncLabel, dimensions: dimensions)
    }

    package func committed(events: Int) {
        guard events > 0 else { return }
        self.events.record(events)
    }

    /// Times `work`, the sync, whether it succeeds or throws.
    package func timingSync<T, E: Error>(_ work: () throws(E) -> T) throws(E) -> T {
        let start = ContinuousClock.now
        defer { self.sync.record(since: start) }
        return try work()
    }

    package func synced(after start: ContinuousClock.Instant) {
        self.sync.record(since: start)
    }
}

extension CoreMetrics.Timer {
    /// Records the time from `start` to now.
    package func record(since start: ContinuousClock.Instant) {
        let elapsed = (ContinuousClock.now - start).components
        self.recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
    }
}
