internal import LogbookStorage
internal import LogbookWire

/// Wire requests checked against the limits and turned into storage values, and stored
/// events turned into wire values. A request that breaks a rule fails here, before it
/// reaches the writer, with the Status the client sees.
enum Conversions {
    static func streamWrites(_ request: AppendRequest, limits: Limits) throws(CallError) -> [StreamWrite] {
        guard !request.streams.isEmpty else {
            throw CallError.badField("AppendRequest.streams", "an append names at least one stream")
        }
        let eventCount = request.streams.reduce(0) { $0 + $1.events.count }
        guard eventCount <= limits.eventsPerAppendMax else {
            throw CallError.limit("events_per_append_max", value: eventCount, max: limits.eventsPerAppendMax, code: .invalidArgument)
        }
        var writes: [StreamWrite] = []
        writes.reserveCapacity(request.streams.count)
        for append in request.streams {
            try self.checkName(append.stream, field: "StreamAppend.stream", limits: limits)
            guard !append.events.isEmpty else {
                throw CallError.badField("StreamAppend.events", "stream \(append.stream) has no events to append")
            }
            var events: [LogbookStorage.ProposedEvent] = []
            events.reserveCapacity(append.events.count)
            for event in append.events {
                events.append(try self.proposedEvent(event, limits: limits))
            }
            writes.append(StreamWrite(stream: append.stream, expected: self.expected(append.expected), events: events))
        }
        return writes
    }

    static func expected(_ expected: LogbookWire.ExpectedRevision?) -> LogbookStorage.ExpectedRevision {
        guard let expected else { return .any }
        switch expected.kind {
        case .any: return .any
        case .noStream: return .noStream
        case .streamExists: return .streamExists
        case .exact: return .exact(expected.revision)
        }
    }

    static func wireExpected(_ expected: LogbookStorage.ExpectedRevision) -> LogbookWire.ExpectedRevision {
        switch expected {
        case .any: LogbookWire.ExpectedRevision(kind: .any)
        case .noStream: LogbookWire.ExpectedRevision(kind: .noStream)
        case .streamExists: LogbookWire.ExpectedRevision(kind: .streamExists)
        case .exact(let revision): LogbookWire.ExpectedRevision(kind: .exact, revision: revision)
        }
    }

    private static func checkShort(_ value: String, field: String, limits: Limits) throws(CallError) {
        guard value.utf8.count > limits.nameBytesMax else { return }
        throw CallError.limit("name_bytes_max (\(field))", value: value.utf8.count, max: limits.nameBytesMax, code: .invalidArgument)
    }

    private static func proposedEvent(_ event: LogbookWire.ProposedEvent, limits: Limits) throws(CallError) -> LogbookStorage.ProposedEvent {
        var id: EventID?
        if !event.id.isEmpty {
            guard let parsed = EventID(bytes: event.id) else {
                throw CallError.badField("ProposedEvent.id", "an event id is 16 bytes (a UUID), not \(event.id.count)")
            }
            id = parsed
        }
        guard !event.type.isEmpty else {
            throw CallError.badField("ProposedEvent.type", "every event needs a type")
        }
        try self.checkName(event.type, field: "ProposedEvent.type", limits: limits)
        // One call each, not a loop over an array of them: this runs for every event appended.
        try self.checkShort(event.contentType, field: "ProposedEvent.content_type", limits: limits)
        try self.checkShort(event.correlationID, field: "ProposedEvent.correlation_id", limits: limits)
        try self.checkShort(event.causationID, field: "ProposedEvent.causation_id", limits: limits)
        var size = event.data.count
        for entry in event.metadata {
            size += entry.key.utf8.count + entry.value.utf8.count
        }
        // Metadata is a map: a key given twice has no meaning a reader could rely on. (The
        // set is built only when there is something to compare: this is the append path.)
        if event.metadata.count > 1 {
            var keys = Set<String>(minimumCapacity: event.metadata.count)
            for entry in event.metadata where !keys.insert(entry.key).inserted {
                throw CallError.badField("ProposedEvent.metadata", "the key \"\(entry.key)\" appears more than once")
            }
        }
        guard size <= limits.eventBytesMax else {
            throw CallError.limit("event_bytes_max", value: size, max: limits.eventBytesMax, code: .invalidArgument)
        }
        return LogbookStorage.ProposedEvent(
            id: id,
            type: event.type,
            data: event.data,
            contentType: event.contentType.isEmpty ? "application/octet-stream" : event.contentType,
            metadata: event.metadata.map { MetadataEntry(key: $0.key, value: $0.value) },
            correlationID: event.correlationID,
            causationID: event.causationID
        )
    }

    static func checkName(_ name: String, field: String, limits: Limits) throws(CallError) {
        guard !name.isEmpty else { throw CallError.badField(field, "must not be empty") }
        guard name.utf8.count <= limits.nameBytesMax else {
            throw CallError.limit("name_bytes_max (\(field))", value: name.utf8.count, max: limits.nameBytesMax, code: .invalidArgument)
        }
    }

    static func appendReply(_ result: AppendResult) -> AppendReply {
        AppendReply(
            streams: result.streams.map {
                StreamAppendResult(stream: $0.stream, firstRevision: $0.firstRevision, lastRevision: $0.lastRevision, positions: $0.positions)
            },
            commitTimeUnixMicros: result.commitTimeMicros
        )
    }

    static func selector(_ selector: LogbookWire.Selector?, limits: Limits) throws(CallError) -> LogbookStorage.Selector {
        switch selector?.kind {
        case .stream(let name):
            try self.checkName(name, field: "Selector.stream", limits: limits)
            return name == "$all" ? .all : .stream(name)
        case .all: return .all
        case .category(let name):
            try self.checkName(name, field: "Selector.category", limits: limits)
            return .category(name)
        case .eventType(let name):
            try self.checkName(name, field: "Selector.event_type", limits: limits)
            return .eventType(name)
        case .correlationID(let id):
            try self.checkName(id, field: "Selector.correlation_id", limits: limits)
            return .correlationID(id)
        case nil:
            throw CallError.badField("ReadRequest.selector", "a read needs a selector (a stream, $all, a category, an event type or a correlation id)")
        }
    }

    static func filter(_ filter: LogbookWire.Filter?) -> ReadFilter? {
        guard let filter, !filter.eventTypes.isEmpty || !filter.streamPrefix.isEmpty else { return nil }
        return ReadFilter(eventTypes: filter.eventTypes, streamPrefix: filter.streamPrefix)
    }

    static func viewWrite(_ write: LogbookWire.ViewWrite) throws(CallError) -> LogbookStorage.ViewWrite {
        let operation: LogbookStorage.ViewWrite.Operation
        switch write.op {
        case .put(let json): operation = .put(json)
        case .merge(let patch): operation = .merge(patch)
        case .remove: operation = .remove
        case nil: throw CallError.badField("ViewWrite.op", "say put, merge or remove for key '\(write.key)' of view \(write.view)")
        }
        return LogbookStorage.ViewWrite(view: write.view, key: write.key, operation: operation)
    }

    static func recordedEvent(_ event: LogbookStorage.RecordedEvent) -> LogbookWire.RecordedEvent {
        LogbookWire.RecordedEvent(
            stream: event.stream,
            revision: event.revision,
            position: event.position,
            id: event.id.bytes,
            type: event.type,
            data: event.data,
            contentType: event.contentType,
            metadata: event.metadata.map { LogbookWire.MetadataEntry(key: $0.key, value: $0.value) },
            correlationID: event.correlationID,
            causationID: event.causationID,
            timeUnixMicros: event.timeMicros
        )
    }
}
