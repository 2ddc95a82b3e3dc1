internal import Foundation
internal import GRDB

/// A group's row as stored: its definition and progress, with the internal id.
struct GroupRow {
    var id: Int64
    var definition: GroupDefinition
    var createdMicros: Int64
    /// Where `start` put the checkpoint when the group was created (a reset's default).
    var initialCheckpoint: UInt64
    var checkpoint: UInt64
}

/// Maps a `GroupDefinition` to the columns of `groups` and back, checking what it reads.
///
/// A kind it does not know or a negative number is reported as `.corrupt` naming the
/// group, never trapped on.
package enum GroupRowCodec {
    /// `selector_kind`, `selector_value`.
    package static func columns(of selector: Selector) -> (kind: String, value: String) {
        switch selector {
        case .stream(let name): ("stream", name)
        case .all: ("all", "")
        case .category(let name): ("category", name)
        case .eventType(let name): ("event_type", name)
        case .correlationID(let id): ("correlation_id", id)
        }
    }

    /// `start_kind`, `start_position`.
    package static func columns(of start: GroupStart) -> (kind: String, position: Int64) {
        switch start {
        case .start: ("start", 0)
        case .end: ("end", 0)
        case .position(let position): ("position", Int64(clamping: position))
        }
    }

    /// The selector of `columns(of:)`; nil for a kind this code does not know.
    package static func selector(kind: String, value: String) -> Selector? {
        switch kind {
        case "stream": .stream(value)
        case "all": .all
        case "category": .category(value)
        case "event_type": .eventType(value)
        case "correlation_id": .correlationID(value)
        default: nil
        }
    }

    /// The start of `columns(of:)`; nil for a kind this code does not know or a negative position.
    package static func start(kind: String, position: Int64) -> GroupStart? {
        switch kind {
        case "start": .start
        case "end": .end
        case "position": UInt64(exactly: position).map { .position($0) }
        default: nil
        }
    }

    /// `filter_event_types`: a JSON array of strings.
    static func encodeEventTypes(_ types: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(types), as: UTF8.self)
    }

    /// The arguments of `Schema.SQL.insertGroup`.
    static func insertArguments(
        _ definition: GroupDefinition, createdMicros: Int64, initialCheckpoint: UInt64
    ) throws -> StatementArguments {
        let selector = columns(of: definition.selector)
        let start = columns(of: definition.start)
        let covered: StatementArguments = [
            definition.name, selector.kind, selector.value, start.kind, start.position,
            try encodeEventTypes(definition.filter.eventTypes), definition.filter.streamPrefix,
        ]
        return covered + settingsArguments(definition) + [createdMicros, Int64(clamping: initialCheckpoint)]
    }

    /// `strategy`, `max_in_flight`, `ack_timeout_ms`, `max_deliveries`, `retry_backoff_ms`:
    /// the settings an update replaces, in the order both `insertGroup` and
    /// `updateGroupSettings` name them.
    static func settingsArguments(_ definition: GroupDefinition) -> StatementArguments {
        [
            definition.strategy.rawValue, Int64(definition.maxInFlight), Int64(definition.ackTimeoutMilliseconds),
            Int64(definition.maxDeliveries), Int64(definition.retryBackoffMilliseconds),
        ]
    }

    /// A row of `Schema.SQL.groupColumns`.
    static func decode(_ row: Row) throws -> GroupRow {
        let name: String = try row.decode(atIndex: 0)
        func damaged(_ what: String) -> StorageError {
            StorageError.corrupt("the group '\(name)' has \(what)")
        }
        let selectorKind: String = try row.decode(atIndex: 1)
        guard let selector = selector(kind: selectorKind, value: try row.decode(atIndex: 2)) else {
            throw damaged("the unknown selector kind '\(selectorKind)'")
        }
        let startKind: String = try row.decode(atIndex: 3)
        let startPosition: Int64 = try row.decode(atIndex: 4)
        guard let start = start(kind: startKind, position: startPosition) else {
            throw damaged("the start '\(startKind)' at \(startPosition)")
        }
        let strategyName: String = try row.decode(atIndex: 7)
        guard let strategy = GroupStrategy(rawValue: strategyName) else {
            throw damaged("the unknown strategy '\(strategyName)'")
        }
        let typesJSON: String = try row.decode(atIndex: 5)
        guard let types = try? JSONDecoder().decode([String].self, from: Data(typesJSON.utf8)) else {
            throw damaged("a filter that does not decode")
        }
        func unsigned32(_ index: Int, _ what: String) throws -> UInt32 {
            let value: Int64 = try row.decode(atIndex: index)
            guard let value = UInt32(exactly: value) else { throw damaged("the \(what) \(value)") }
            return value
        }
        func position(_ index: Int, _ what: String) throws -> UInt64 {
            let value: Int64 = try row.decode(atIndex: index)
            guard let value = UInt64(exactly: value) else { throw damaged("the \(what) \(value)") }
            return value
        }
        let definition = GroupDefinition(
            name: name,
            selector: selector,
            start: start,
            filter: ReadFilter(eventTypes: types, streamPrefix: try row.decode(atIndex: 6)),
            strategy: strategy,
            maxInFlight: try unsigned32(8, "max_in_flight"),
            ackTimeoutMilliseconds: try unsigned32(9, "ack_timeout_ms"),
            maxDeliveries: try unsigned32(10, "max_deliveries"),
            retryBackoffMilliseconds: try unsigned32(11, "retry_backoff_ms"))
        return GroupRow(
            id: try row.decode(atIndex: 13),
            definition: definition,
            createdMicros: try row.decode(atIndex: 12),
            initialCheckpoint: try position(14, "initial checkpoint"),
            checkpoint: try position(15, "checkpoint"))
    }
}
