#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

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
        out.append(contentsOf: #"{"stream":"#.utf8)
        JSON.appendString(event.stream, to: &out)
        out.append(contentsOf: #","revision":"#.utf8)
        JSON.appendInteger(event.revision, to: &out)
        out.append(contentsOf: #","position":"#.utf8)
        JSON.appendInteger(event.position, to: &out)
        out.append(contentsOf: #","id":""#.utf8)
        Self.appendUUID(event.id, to: &out)
        out.append(contentsOf: #"","type":"#.utf8)
        JSON.appendString(event.type, to: &out)
        out.append(contentsOf: #","time":""#.utf8)
        RFC3339.append(unixMicros: event.timeUnixMicros, to: &out)
        out.append(contentsOf: #"","content_type":"#.utf8)
        JSON.appendString(event.contentType, to: &out)
        out.append(contentsOf: #","data":"#.utf8)
        Self.appendData(event.data, contentType: event.contentType, to: &out)
        out.append(contentsOf: #","metadata":"#.utf8)
        Self.appendMetadata(event.metadata, to: &out)
        out.append(contentsOf: #","correlation_id":"#.utf8)
        Self.appendOptional(event.correlationID, to: &out)
        out.append(contentsOf: #","causation_id":"#.utf8)
        Self.appendOptional(event.causationID, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// One event as a JSON line (without the newline).
    package static func line(_ event: RecordedEvent) -> String {
        var out: [UInt8] = []
        self.append(event, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends an append's result: `{"stream","first_revision","last_revision","positions":[...]}`.
    package static func append(_ result: AppendResult, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"stream":"#.utf8)
        JSON.appendString(result.stream, to: &out)
        out.append(contentsOf: #","first_revision":"#.utf8)
        JSON.appendInteger(result.firstRevision, to: &out)
        out.append(contentsOf: #","last_revision":"#.utf8)
        JSON.appendInteger(result.lastRevision, to: &out)
        out.append(contentsOf: #","positions":["#.utf8)
        for (index, position) in result.positions.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSON.appendInteger(position, to: &out)
        }
        out.append(contentsOf: "]}".utf8)
    }

    /// One append result as a JSON line (without the newline).
    package static func line(_ result: AppendResult) -> String {
        var out: [UInt8] = []
        self.append(result, to: &out)
        return String(decoding: out, as: UTF8.self)
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

    private static func appendMetadata(_ metadata: [String: String], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, key) in metadata.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSON.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSON.appendString(metadata[key] ?? "", to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func appendOptional(_ value: String?, to out: inout [UInt8]) {
        if let value {
            JSON.appendString(value, to: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends a UUID in its canonical lowercase form, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    package static func appendUUID(_ id: UUID, to out: inout [UInt8]) {
        withUnsafeBytes(of: id.uuid) { bytes in
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    out.append(UInt8(ascii: "-"))
                }
                out.append(Self.hexDigits[Int(byte >> 4)])
                out.append(Self.hexDigits[Int(byte & 0x0F)])
            }
        }
    }
}
