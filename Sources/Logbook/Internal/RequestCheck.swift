internal import LogbookWire
internal import NIOCore

/// Checks a request before it is sent, so that a request the server would refuse for its
/// size, or the encoder could not carry, fails locally with a clear error instead of
/// breaking the connection that other calls share.
///
/// The size check first adds up a bound on the encoded size from the Swift values (cheap:
/// string and array lengths); only a request whose bound passes the server's limit is
/// encoded to measure it exactly. Each field is bounded by 12 bytes of overhead (a tag of
/// at most 2 bytes and a length or varint of at most 10), more than protobuf ever uses.
enum RequestCheck {
    private static let fieldOverheadMax = 12

    /// Fails with `INVALID_ARGUMENT` for a string protobuf-c cannot carry, and with
    /// `RESOURCE_EXHAUSTED` when the frame would be larger than `frameBytesMax`.
    static func check(_ frame: Frame, frameBytesMax: Int) throws(LogbookError) {
        var bound = 3 * Self.fieldOverheadMax
        switch frame.body {
        case .appendRequest(let request)?:
            bound += try Self.bound(request)
        case .readRequest(let request)?:
            bound += try Self.bound(request)
        default:
            bound += 1024
        }
        guard bound > frameBytesMax else { return }
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        do {
            try frame.encode(into: &buffer, frameBytesMax: frameBytesMax)
        } catch {
            throw LogbookError(
                code: error.code == .resourceExhausted ? .resourceExhausted : .invalidArgument,
                message: "request not sent: \(error.message) (the server's frame limit)",
                details: .limitExceeded(
                    limit: "frame_bytes_max",
                    value: UInt64(bound),
                    max: UInt64(frameBytesMax)
                )
            )
        }
    }

    private static func bound(_ request: AppendRequest) throws(LogbookError) -> Int {
        var total = 0
        for (streamIndex, append) in request.streams.enumerated() {
            total += 4 * Self.fieldOverheadMax
            total += try Self.string(append.stream, field: "streams[\(streamIndex)].stream")
            for (eventIndex, event) in append.events.enumerated() {
                total += Self.fieldOverheadMax * 8 + event.id.count + event.data.count
                total += try Self.string(event.type, field: "event[\(eventIndex)].type")
                total += try Self.string(event.contentType, field: "event[\(eventIndex)].content_type")
                total += try Self.string(event.correlationID, field: "event[\(eventIndex)].correlation_id")
                total += try Self.string(event.causationID, field: "event[\(eventIndex)].causation_id")
                for entry in event.metadata {
                    total += 3 * Self.fieldOverheadMax
                    total += try Self.string(entry.key, field: "event[\(eventIndex)].metadata key")
                    total += try Self.string(entry.value, field: "event[\(eventIndex)].metadata[\(entry.key)]")
                }
            }
        }
        return total
    }

    private static func bound(_ request: ReadRequest) throws(LogbookError) -> Int {
        var total = 8 * Self.fieldOverheadMax
        switch request.selector?.kind {
        case .stream(let value)?, .category(let value)?, .eventType(let value)?, .correlationID(let value)?:
            total += try Self.string(value, field: "selector")
        case .all?, nil:
            break
        }
        if let filter = request.filter {
            total += try Self.string(filter.streamPrefix, field: "filter.stream_prefix")
            for type in filter.eventTypes {
                total += Self.fieldOverheadMax
                total += try Self.string(type, field: "filter.event_types")
            }
        }
        return total
    }

    /// The bytes a string takes on the wire (with its overhead); fails for a NUL inside,
    /// which protobuf-c would cut the string at. The field is named only then: naming it
    /// for every string of every event was 8 of the client's 31 allocations per append.
    private static func string(_ value: String, field: @autoclosure () -> String) throws(LogbookError) -> Int {
        let utf8 = value.utf8
        let hasNUL = utf8.withContiguousStorageIfAvailable { $0.contains(0) } ?? utf8.contains(0)
        guard !hasNUL else {
            let field = field()
            throw LogbookError(
                code: .invalidArgument,
                message: "request not sent: \(field) contains a NUL character",
                details: .badField(field: field, reason: "contains a NUL character")
            )
        }
        return utf8.count + Self.fieldOverheadMax
    }
}
