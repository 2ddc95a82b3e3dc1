#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
package import LogbookWire

// The mapping between the public value types and the wire's. The public types shadow the
// wire types of the same name, so the wire's are spelled `LogbookWire.…` here.

extension ExpectedRevision {
    var wire: LogbookWire.ExpectedRevision {
        switch self.kind {
        case .any: LogbookWire.ExpectedRevision(kind: .any)
        case .noStream: LogbookWire.ExpectedRevision(kind: .noStream)
        case .streamExists: LogbookWire.ExpectedRevision(kind: .streamExists)
        case .exact(let revision): LogbookWire.ExpectedRevision(kind: .exact, revision: revision)
        }
    }

    init(wire: LogbookWire.ExpectedRevision) {
        switch wire.kind {
        case .any: self = .any
        case .noStream: self = .noStream
        case .streamExists: self = .streamExists
        case .exact: self = .exact(wire.revision)
        }
    }
}

extension EventData {
    var wire: ProposedEvent {
        ProposedEvent(
            id: self.id.bytes,
            type: self.type,
            data: self.data,
            contentType: self.contentType,
            metadata: self.metadata.sorted { $0.key < $1.key }.map { MetadataEntry(key: $0.key, value: $0.value) },
            correlationID: self.correlationID ?? "",
            causationID: self.causationID ?? ""
        )
    }
}

extension StreamAppend {
    var wire: LogbookWire.StreamAppend {
        LogbookWire.StreamAppend(stream: self.stream, expected: self.expected.wire, events: self.events.map(\.wire))
    }
}

extension AppendResult {
    init(wire: StreamAppendResult, commitTimeUnixMicros: Int64) {
        self.init(
            stream: wire.stream,
            firstRevision: wire.firstRevision,
            lastRevision: wire.lastRevision,
            positions: wire.positions,
            commitTime: commitTimeUnixMicros == 0
                ? nil : Date(unixMicros: commitTimeUnixMicros)
        )
    }
}

extension ReadSelector {
    var wire: Selector {
        switch self.kind {
        case .stream(let name): Selector(kind: .stream(name))
        case .all: Selector(kind: .all(Empty()))
        case .category(let category): Selector(kind: .category(category))
        case .eventType(let type): Selector(kind: .eventType(type))
        case .correlationID(let id): Selector(kind: .correlationID(id))
        }
    }
}

extension StartPoint {
    /// The one mapping of a start to the wire, for reads, subscriptions and groups alike.
    var wire: StartFrom {
        switch self {
        case .start: StartFrom(kind: .start(Empty()))
        case .end: StartFrom(kind: .end(Empty()))
        case .position(let position): StartFrom(kind: .position(position))
        case .revision(let revision): StartFrom(kind: .revision(revision))
        }
    }

    /// The start the wire's stands for; none stands for the start.
    init(wire: StartFrom?) {
        switch wire?.kind {
        case nil, .start?: self = .start
        case .end?: self = .end
        case .position(let position)?: self = .position(position)
        case .revision(let revision)?: self = .revision(revision)
        }
    }
}

extension ReadFilter {
    var wire: Filter {
        Filter(eventTypes: self.eventTypes, streamPrefix: self.streamPrefix ?? "")
    }
}

extension RecordedEvent {
    /// The public event for a wire event; fails when the server sent an id that is not 16 bytes.
    init(wire: LogbookWire.RecordedEvent) throws(LogbookError) {
        guard let id = UUID(bytes: wire.id) else {
            throw LogbookError(
                code: .internalError,
                message: "the server sent event \(wire.stream)@\(wire.revision) with an id of \(wire.id.count) bytes, not 16"
            )
        }
        var metadata: [String: String] = [:]
        if !wire.metadata.isEmpty {
            metadata.reserveCapacity(wire.metadata.count)
            for entry in wire.metadata {
                metadata[entry.key] = entry.value
            }
        }
        self.init(
            stream: wire.stream,
            revision: wire.revision,
            position: wire.position,
            id: id,
            type: wire.type,
            data: wire.data,
            contentType: wire.contentType.isEmpty ? ContentType.octetStream : wire.contentType,
            metadata: metadata,
            correlationID: wire.correlationID.isEmpty ? nil : wire.correlationID,
            causationID: wire.causationID.isEmpty ? nil : wire.causationID,
            timeUnixMicros: wire.timeUnixMicros
        )
    }
}

extension ServerInfo {
    init(wire: HelloReply) {
        let limits = wire.limits ?? Limits()
        self.init(
            serverVersion: wire.serverVersion,
            protocolVersion: wire.protocolVersion,
            limits: ServerLimits(
                frameBytesMax: Int(clamping: limits.frameBytesMax),
                eventsPerAppendMax: Int(limits.eventsPerAppendMax),
                eventBytesMax: Int(clamping: limits.eventBytesMax),
                openCallsPerConnectionMax: Int(limits.openCallsPerConnectionMax),
                readBatchEventsMax: Int(limits.readBatchEventsMax),
                streamNameBytesMax: Int(limits.streamNameBytesMax)
            ),
            peerUID: wire.peerUid,
            peerGID: wire.peerGid,
            peerPID: wire.peerPid
        )
    }
}

extension LogbookError.Code {
    init(wire: LogbookWire.Code) {
        // Every wire code but OK has a public twin with the same number.
        self = LogbookError.Code(rawValue: Int(wire.rawValue)) ?? .unknown
    }
}

extension LogbookError {
    /// The error a non-OK `Status` from the server stands for, with its typed details.
    package init(status: Status) {
        let details: Details? =
            switch status.detail {
            case .wrongExpectedRevision(let wrong)?:
                .wrongExpectedRevision(
                    stream: wrong.stream,
                    expected: wrong.expected.map(ExpectedRevision.init(wire:)) ?? .any,
                    actual: wrong.streamExists ? wrong.actualRevision : nil
                )
            case .eventIDConflict(let conflict)?:
                .eventIDConflict(eventID: UUID(bytes: conflict.eventID), stream: conflict.stream, revision: conflict.revision)
            case .limitExceeded(let limit)?:
                .limitExceeded(limit: limit.limit, value: limit.value, max: limit.max)
            case .badField(let field)?:
                .badField(field: field.field, reason: field.reason)
            case .streamDeleted(let deleted)?:
                .streamDeleted(stream: deleted.stream, hard: deleted.hard)
            case nil:
                nil
            }
        let message = status.message.isEmpty ? "the server refused the call" : status.message
        self.init(code: Code(wire: status.code), message: message, details: details)
        self.isFromServer = true
    }
}
