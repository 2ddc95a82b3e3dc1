#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif
package import Logbook

/// Events for `logbook append`, from its options or from JSON Lines on standard input.
package enum AppendInput {
    /// What the command line says about every event (each line may override it).
    package struct Defaults: Sendable {
        package var type: String?
        package var metadata: [String: String] = [:]
        package var correlationID: String?
        package var causationID: String?
    }

    /// A line of input that is not an event.
    package struct LineError: Error, Hashable, CustomStringConvertible {
        package var message: String

        package init(_ message: String) {
            self.message = message
        }

        package var description: String { self.message }
    }

    /// An event of `logbook export`'s output: its stream, and the event as it was appended
    /// (id, type, data byte for byte, content type, metadata, correlation and causation).
    /// Revision, position and time are the log's and are ignored.
    package static func exported(line: [UInt8]) throws(LineError) -> (stream: String, event: EventData) {
        let fields = try Self.fields(of: line)
        guard let stream = fields.stream, !stream.isEmpty else {
            throw LineError("the event has no \"stream\" (lines of logbook export name it)")
        }
        return (stream, try Self.event(fields, line: line, defaults: Defaults()))
    }

    /// The event one JSON line stands for.
    ///
    /// With a default type, the whole line is the event's JSON data. Without one, the
    /// line is an object `{"type", "data", "id"?, "metadata"?, "correlation_id"?,
    /// "causation_id"?, "content_type"?}`: `data` is any JSON value and becomes the payload
    /// byte for byte, unless `content_type` names a type that is not JSON, in which case
    /// `data` is the payload in base64 (what `logbook read --json` prints for such an
    /// event). Other keys are ignored, so the output of `read --json` can be appended again.
    package static func event(line: [UInt8], defaults: Defaults) throws(LineError) -> EventData {
        if let type = defaults.type {
            do {
                try JSON.validate(line)
            } catch {
                throw LineError("the line is not valid JSON: \(error)")
            }
            return EventData(
                type: type,
                data: Self.trimmed(line),
                contentType: ContentType.json,
                metadata: defaults.metadata,
                correlationID: defaults.correlationID,
                causationID: defaults.causationID
            )
        }

        return try Self.event(try Self.fields(of: line), line: line, defaults: defaults)
    }

    private static func fields(of line: [UInt8]) throws(LineError) -> Fields {
        var fields = Fields()
        do {
            var scanner = JSONScanner(line)
            scanner.skipWhitespace()
            guard scanner.bytes.indices.contains(scanner.index), scanner.bytes[scanner.index] == UInt8(ascii: "{") else {
                throw LineError("the line is not a JSON object (an event is {\"type\": …, \"data\": …})")
            }
            try scanner.scanObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
                try fields.read(key: key, scanner: &scanner)
            }
            scanner.skipWhitespace()
            guard scanner.isAtEnd else {
                throw JSONError("unexpected text after the JSON object", at: scanner.index)
            }
            guard String(validating: line, as: UTF8.self) != nil else {
                throw JSONError("the text is not valid UTF-8", at: 0)
            }
        } catch let error as LineError {
            throw error
        } catch let error as JSONError {
            throw LineError(error.isSyntax ? "the line is not valid JSON: \(error)" : error.message)
        } catch {
            throw LineError("\(error)")
        }
        return fields
    }

    private static func event(_ fields: Fields, line: [UInt8], defaults: Defaults) throws(LineError) -> EventData {
        guard let type = fields.type, !type.isEmpty else {
            throw LineError("the event has no \"type\"")
        }
        let contentType = fields.contentType ?? ContentType.json
        let data: [UInt8]
        if let exact = fields.dataBase64 {
            guard let decoded = Data(base64Encoded: exact) else {
                throw LineError("\"data_base64\" is not base64")
            }
            data = [UInt8](decoded)
        } else if ContentType.isJSON(contentType) {
            data = fields.dataRange.map { Array(line[$0]) } ?? Array("null".utf8)
        } else if let range = fields.dataRange {
            var scanner = JSONScanner(Array(line[range]))
            guard scanner.bytes.first == UInt8(ascii: "\""),
                let text = try? scanner.scanString(),
                let decoded = Data(base64Encoded: text)
            else {
                throw LineError("\"data\" of content type \(contentType) must be a base64 string")
            }
            data = [UInt8](decoded)
        } else {
            data = []
        }
        var metadata = defaults.metadata
        for (key, value) in fields.metadata {
            metadata[key] = value
        }
        var event = EventData(
            type: type,
            data: data,
            contentType: contentType,
            metadata: metadata,
            correlationID: fields.correlationID ?? defaults.correlationID,
            causationID: fields.causationID ?? defaults.causationID
        )
        if let id = fields.id {
            event.id = id
        }
        return event
    }

    /// The members of an event object that matter, read as the scanner passes them.
    private struct Fields {
        var stream: String?
        var type: String?
        /// `logbook export`'s exact bytes of a JSON payload whose `data` was compacted.
        var dataBase64: String?
        var dataRange: Range<Int>?
        var id: UUID?
        var metadata: [String: String] = [:]
        var correlationID: String?
        var causationID: String?
        var contentType: String?

        mutating func read(key: String, scanner: inout JSONScanner) throws(JSONError) {
            switch key {
            case "type":
                self.type = try Self.string(key, &scanner)
            case "stream":
                self.stream = try Self.string(key, &scanner)
            case "data_base64":
                self.dataBase64 = try Self.optionalString(key, &scanner)
            case "data":
                self.dataRange = try scanner.scanValue()
            case "id":
                let start = scanner.index
                guard let text = try Self.optionalString(key, &scanner) else { return }
                guard let id = AppendInput.eventID(text) else {
                    throw JSONError.field("\"id\" is not a UUID: \(text)", at: start)
                }
                self.id = id
            case "metadata":
                let start = scanner.index
                guard scanner.bytes.indices.contains(start), scanner.bytes[start] == UInt8(ascii: "{") else {
                    throw JSONError.field("\"metadata\" must be an object of strings", at: start)
                }
                var metadata: [String: String] = [:]
                try scanner.scanObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
                    guard scanner.bytes.indices.contains(scanner.index), scanner.bytes[scanner.index] == UInt8(ascii: "\"") else {
                        throw JSONError.field("metadata value \"\(key)\" must be a string", at: scanner.index)
                    }
                    metadata[key] = try scanner.scanString()
                }
                self.metadata = metadata
            case "correlation_id":
                self.correlationID = try Self.optionalString(key, &scanner)
            case "causation_id":
                self.causationID = try Self.optionalString(key, &scanner)
            case "content_type":
                self.contentType = try Self.optionalString(key, &scanner)
            default:
                _ = try scanner.scanValue()
            }
        }

        private static func string(_ key: String, _ scanner: inout JSONScanner) throws(JSONError) -> String {
            guard let value = try self.optionalString(key, &scanner) else {
                throw JSONError.field("\"\(key)\" must be a string", at: scanner.index)
            }
            return value
        }

        private static func optionalString(_ key: String, _ scanner: inout JSONScanner) throws(JSONError) -> String? {
            let start = scanner.index
            if scanner.bytes.indices.contains(start), scanner.bytes[start] == UInt8(ascii: "\"") {
                return try scanner.scanString()
            }
            let range = try scanner.scanValue()
            if scanner.bytes[range].elementsEqual("null".utf8) {
                return nil
            }
            throw JSONError.field("\"\(key)\" must be a string", at: start)
        }
    }

    /// The event id `text` spells (a UUID, in either case), as `"id"` and `--id` take it.
    package static func eventID(_ text: String) -> UUID? {
        UUID(uuidString: text)
    }

    private static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        let isSpace = { (byte: UInt8) in
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
                || byte == UInt8(ascii: "\r")
        }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
            let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return [] }
        return Array(bytes[first...last])
    }
}

extension JSONError {
    /// A value of the wrong kind in valid JSON.
    fileprivate static func field(_ message: String, at offset: Int) -> JSONError {
        JSONError(message, at: offset, isSyntax: false)
    }
}

extension AppendInput.Defaults {
    /// Events of type `type` (nil: each line names its own), with nothing else in common.
    /// An extension, so that the memberwise initializer stays for this module's tests.
    package init(type: String?) {
        self.type = type
    }
}
