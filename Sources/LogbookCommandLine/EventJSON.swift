#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
package import Logbook

/// The JSON the command-line tool prints for events and appends (DESIGN §9), one object
/// per line.
package enum EventJSON {
    /// Appends one event as a JSON object (no newline):
    /// `{"stream","revision","position","id","type","time","content_type","data","metadata","correlation_id","causation_id"}`.
    ///
    /// `data` is the JSON value itself when the content type is JSON and the bytes are
    /// valid JSON, and a base64 string otherwise. `time` is RFC 3339 in UTC with
    /// microseconds. Absent correlation and causation ids are `null`.
    package static func append(_ event: RecordedEvent, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        JSON.appendMember("stream", event.stream, to: &out)
        JSON.appendMember("revision", event.revision, to: &out)
        JSON.appendMember("position", event.position, to: &out)
        JSON.appendKey("id", to: &out)
        Self.appendUUID(event.id, to: &out)
        JSON.appendMember("type", event.type, to: &out)
        JSON.appendKey("time", to: &out)
        RFC3339.appendQuoted(unixMicros: event.timeUnixMicros, to: &out)
        JSON.appendMember("content_type", event.contentType, to: &out)
        JSON.appendKey("data", to: &out)
        Self.appendData(event.data, contentType: event.contentType, to: &out)
        JSON.appendKey("metadata", to: &out)
        out.append(UInt8(ascii: "{"))
        for key in event.metadata.keys.sorted() {
            JSON.appendMember(key, event.metadata[key], to: &out)
        }
        out.append(UInt8(ascii: "}"))
        JSON.appendMember("correlation_id", event.correlationID, to: &out)
        JSON.appendMember("causation_id", event.causationID, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends an event with more members after its own: the event's object, still open,
    /// then what `members` appends, then the closing brace.
    package static func append(_ event: RecordedEvent, to out: inout [UInt8], members: (inout [UInt8]) -> Void) {
        Self.append(event, to: &out)
        out.removeLast()  // the event object's closing brace
        members(&out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends an append's result: `{"stream","first_revision","last_revision","positions":[...]}`.
    package static func append(_ result: AppendResult, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        JSON.appendMember("stream", result.stream, to: &out)
        JSON.appendMember("first_revision", result.firstRevision, to: &out)
        JSON.appendMember("last_revision", result.lastRevision, to: &out)
        JSON.appendKey("positions", to: &out)
        JSON.appendArray(result.positions, to: &out) { JSON.appendInteger($0, to: &$1) }
        out.append(UInt8(ascii: "}"))
    }

    /// Appends a group delivery: the event as ``append(_:to:)`` prints it, plus
    /// `"delivery_id"` and `"attempt"`.
    package static func append(_ delivery: GroupDelivery, to out: inout [UInt8]) {
        Self.append(delivery.event, to: &out) { out in
            JSON.appendMember("delivery_id", delivery.deliveryID, to: &out)
            JSON.appendMember("attempt", delivery.attempt, to: &out)
        }
    }

    /// Appends the confirmation of an event's ack: `{"settled":POSITION,"stream","revision"}`.
    package static func appendSettled(_ event: RecordedEvent, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        JSON.appendMember("settled", event.position, to: &out)
        JSON.appendMember("stream", event.stream, to: &out)
        JSON.appendMember("revision", event.revision, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends an event as `logbook export` writes it: as ``append(_:to:)``, and when
    /// `data` had to be compacted to fit on a line (a JSON payload with whitespace between
    /// its tokens), `"data_base64"` with the exact bytes, so that an import stores them
    /// unchanged.
    package static func appendExported(_ event: RecordedEvent, to out: inout [UInt8]) {
        guard ContentType.isJSON(event.contentType), JSON.isValid(event.data) else {
            Self.append(event, to: &out)
            return
        }
        var compact: [UInt8] = []
        compact.reserveCapacity(event.data.count)
        JSON.appendCompact(event.data, to: &compact)
        guard compact != event.data else {
            Self.append(event, to: &out)
            return
        }
        Self.append(event, to: &out) { out in
            JSON.appendMember("data_base64", Data(event.data).base64EncodedString(), to: &out)
        }
    }

    /// Appends an event's payload: the JSON value for valid JSON of a JSON content type,
    /// else a base64 string.
    package static func appendData(_ data: [UInt8], contentType: String, to out: inout [UInt8]) {
        if ContentType.isJSON(contentType), JSON.isValid(data) {
            JSON.appendCompact(data, to: &out)
        } else {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: Data(data).base64EncodedString().utf8)
            out.append(UInt8(ascii: "\""))
        }
    }

    /// Appends a UUID as a string in its canonical lowercase form,
    /// `"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"`.
    private static func appendUUID(_ id: UUID, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        withUnsafeBytes(of: id.uuid) { bytes in
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    out.append(UInt8(ascii: "-"))
                }
                out.append(JSON.hexDigits[Int(byte >> 4)])
                out.append(JSON.hexDigits[Int(byte & 0x0F)])
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
