internal import Foundation

/// Checks an append before it is queued and turns it into a `PreparedAppend`.
///
/// Everything that can be decided without the log's state is decided here, on the
/// appending task, so a malformed request never costs the writer (or its batch) time.
package enum AppendValidator {
    package static func prepare(_ writes: [StreamWrite]) throws(StorageError) -> PreparedAppend {
        guard !writes.isEmpty else { throw .invalidArgument("an append must name at least one stream") }
        guard writes.count <= StorageLimits.streamsPerAppendMax else {
            throw .invalidArgument(
                "an append may name at most \(StorageLimits.streamsPerAppendMax) streams, not \(writes.count)")
        }
        try checkDistinctStreams(writes)
        var prepared = [PreparedWrite]()
        prepared.reserveCapacity(writes.count)
        var eventCount = 0
        for write in writes {
            try checkStreamName(write.stream)
            guard !write.events.isEmpty else {
                throw .invalidArgument("stream '\(write.stream)' has no events to append")
            }
            eventCount += write.events.count
            guard eventCount <= StorageLimits.eventsPerAppendMax else {
                throw .invalidArgument("an append may hold at most \(StorageLimits.eventsPerAppendMax) events")
            }
            prepared.append(try prepare(write))
        }
        try checkDistinctIDs(prepared, eventCount: eventCount)
        try checkTotalBytes(prepared)
        return PreparedAppend(writes: prepared, eventCount: eventCount)
    }

    /// One append is one group commit's worth at most (see `StorageLimits.appendBytesMax`).
    private static func checkTotalBytes(_ writes: [PreparedWrite]) throws(StorageError) {
        var total = 0
        for write in writes {
            for event in write.events {
                total += event.data.count + event.metadata.count
            }
        }
        guard total <= StorageLimits.appendBytesMax else {
            throw .invalidArgument(
                "an append may hold at most \(StorageLimits.appendBytesMax) bytes of data and metadata, not \(total)")
        }
    }

    private static func prepare(_ write: StreamWrite) throws(StorageError) -> PreparedWrite {
        var events = [PreparedEvent]()
        events.reserveCapacity(write.events.count)
        for event in write.events {
            events.append(try prepare(event, stream: write.stream))
        }
        return PreparedWrite(
            stream: write.stream,
            category: StreamName.category(of: write.stream),
            expected: write.expected,
            events: events
        )
    }

    private static func prepare(_ event: ProposedEvent, stream: String) throws(StorageError) -> PreparedEvent {
        try checkName(event.type, what: "event type", max: StorageLimits.eventTypeBytesMax)
        try checkShort(event.contentType, what: "content type")
        try checkShort(event.correlationID, what: "correlation id")
        try checkShort(event.causationID, what: "causation id")
        guard event.data.count <= StorageLimits.eventDataBytesMax else {
            throw .invalidArgument(
                "event data of \(event.data.count) bytes exceeds \(StorageLimits.eventDataBytesMax) bytes")
        }
        let metadata = MetadataCodec.encode(event.metadata)
        guard metadata.count <= StorageLimits.metadataBytesMax else {
            throw .invalidArgument("event metadata exceeds \(StorageLimits.metadataBytesMax) bytes")
        }
        let id = event.id ?? EventID.v7()
        return PreparedEvent(
            id: id,
            type: event.type,
            data: Data(event.data),
            contentType: event.contentType,
            metadata: metadata,
            correlationID: event.correlationID,
            causationID: event.causationID
        )
    }

    package static func checkStreamName(_ stream: String) throws(StorageError) {
        try checkName(stream, what: "stream name", max: StorageLimits.streamNameBytesMax)
        guard !StreamName.isReserved(stream) else {
            throw .invalidArgument("stream names starting with '$' are reserved: '\(stream)'")
        }
    }

    private static func checkName(_ name: String, what: String, max: Int) throws(StorageError) {
        guard !name.isEmpty else { throw .invalidArgument("\(what) must not be empty") }
        try checkShort(name, what: what, max: max)
    }

    private static func checkShort(
        _ value: String, what: String, max: Int = StorageLimits.shortStringBytesMax
    ) throws(StorageError) {
        let utf8 = value.utf8
        guard utf8.count <= max else { throw .invalidArgument("\(what) exceeds \(max) bytes") }
        guard !utf8.contains(0) else { throw .invalidArgument("\(what) must not contain a NUL character") }
    }

    private static func checkDistinctStreams(_ writes: [StreamWrite]) throws(StorageError) {
        guard writes.count > 1 else { return }
        var seen = Set<String>(minimumCapacity: writes.count)
        for write in writes where !seen.insert(write.stream).inserted {
            throw .invalidArgument("stream '\(write.stream)' is named twice in one append")
        }
    }

    private static func checkDistinctIDs(_ writes: [PreparedWrite], eventCount: Int) throws(StorageError) {
        guard eventCount > 1 else { return }
        var seen = Set<EventID>(minimumCapacity: eventCount)
        for write in writes {
            for event in write.events where !seen.insert(event.id).inserted {
                throw .invalidArgument("event id \(event.id) appears twice in one append")
            }
        }
    }
}
