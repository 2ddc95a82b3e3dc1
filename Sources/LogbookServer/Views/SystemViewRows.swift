internal import Foundation
internal import LogbookStorage
internal import LogbookWire

/// The rows of the system views the server makes, `$groups` and `$stats`, as JSON
/// documents the store queries like any view's (`EventStore.query(_:rows:)`).
///
/// `$streams` and `$event_types` come from the log, so the store builds those
/// (`LogbookStorage/Internal/SystemViews.swift`); these come from the server's own state.
struct SystemViewRows: Sendable {
    static let groups = "$groups"
    static let stats = "$stats"

    let store: any ServedStore
    let groups: GroupManager
    let stats: ServerStats

    /// The rows of `view`, nil when the server makes no such view.
    func rows(of view: String) -> (@Sendable () async throws -> [ViewRow])? {
        switch view {
        case Self.groups: { try await self.groupRows() }
        case Self.stats: { try self.statsRows() }
        default: nil
        }
    }

    /// One row a group, keyed by its name.
    private func groupRows() async throws -> [ViewRow] {
        try await self.groups.list().compactMap { info in
            guard let settings = info.settings else { return nil }
            let document = GroupDocument(
                name: settings.name, strategy: GroupConversions.strategy(settings.strategy).rawValue,
                checkpoint: info.checkpoint, lag: info.lag, parked: info.parked,
                consumers: info.consumers, inFlight: info.inFlight)
            return ViewRow(key: settings.name, json: try Self.json(document))
        }
    }

    /// One row, keyed `stats`.
    private func statsRows() throws -> [ViewRow] {
        let uptime = self.stats.uptime.components
        let head = self.store.headPosition
        let document = StatsDocument(
            appends: self.stats.appends,
            events: head,
            headPosition: head,
            bytes: self.store.diskUsage().values.reduce(0, +),
            connections: self.stats.connections,
            uptimeSeconds: Double(uptime.seconds) + Double(uptime.attoseconds) / 1e18
        )
        return [ViewRow(key: "stats", json: try Self.json(document))]
    }

    /// Keys in snake case and sorted, as the store's system views write them.
    private static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// A `$groups` row; `strategy` is spelled as the store spells it (`by_stream`).
private struct GroupDocument: Encodable {
    var name, strategy: String
    var checkpoint, lag, parked: UInt64
    var consumers, inFlight: UInt32
}

/// The `$stats` row. `events` is the log's length: positions are dense.
private struct StatsDocument: Encodable {
    var appends, events, headPosition, bytes: UInt64
    var connections: Int
    var uptimeSeconds: Double
}
