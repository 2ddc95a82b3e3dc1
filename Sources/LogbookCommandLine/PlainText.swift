package import Logbook

/// The readable output of the command-line tool (what it prints without `--json`): one
/// line per event, tables with aligned columns, and short summaries.
package enum PlainText {
    /// One event: `#position stream@revision time type data [correlation=ID]`.
    ///
    /// JSON data is printed compact, one-line text as it is, anything else as its size and
    /// content type.
    package static func append(_ event: RecordedEvent, to out: inout [UInt8]) {
        Self.appendPlace(of: event, to: &out)
        out.append(UInt8(ascii: " "))
        RFC3339.append(unixMicros: event.timeUnixMicros, to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: event.type.utf8)
        out.append(UInt8(ascii: " "))
        if event.isJSON, JSON.isValid(event.data) {
            JSON.appendCompact(event.data, to: &out)
        } else if event.contentType.hasPrefix("text/"), let text = String(validating: event.data, as: UTF8.self),
            !text.contains(where: \.isNewline)
        {
            out.append(contentsOf: text.utf8)
        } else {
            out.append(contentsOf: "<\(event.data.count) bytes of \(event.contentType)>".utf8)
        }
        if let correlation = event.correlationID {
            out.append(contentsOf: " correlation=\(correlation)".utf8)
        }
    }

    /// One group delivery: the event's line, then ` attempt=N` past the first attempt.
    package static func append(_ delivery: GroupDelivery, to out: inout [UInt8]) {
        Self.append(delivery.event, to: &out)
        if delivery.attempt > 1 {
            out.append(contentsOf: " attempt=\(delivery.attempt)".utf8)
        }
    }

    /// One parked event: `#position stream@revision type attempts=N reason`.
    package static func append(_ parked: ParkedEvent, to out: inout [UInt8]) {
        Self.appendPlace(of: parked.event, to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: parked.event.type.utf8)
        out.append(contentsOf: " attempts=".utf8)
        JSON.appendInteger(parked.attempts, to: &out)
        out.append(UInt8(ascii: " "))
        // A reason comes from a consumer's nack: keep it on its line.
        out.append(contentsOf: parked.reason.map { $0.isNewline ? " " : $0 }.reduce(into: "") { $0.append($1) }.utf8)
    }

    /// The confirmation of an event's ack: `settled #position stream@revision`.
    package static func appendSettled(_ event: RecordedEvent, to out: inout [UInt8]) {
        out.append(contentsOf: "settled ".utf8)
        Self.appendPlace(of: event, to: &out)
    }

    /// `#position stream@revision`.
    private static func appendPlace(of event: RecordedEvent, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "#"))
        JSON.appendInteger(event.position, to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: event.stream.utf8)
        out.append(UInt8(ascii: "@"))
        JSON.appendInteger(event.revision, to: &out)
    }

    /// What an append did: `appended 1 event to S at revision R (position P)`, or the
    /// ranges of several.
    package static func describe(_ result: AppendResult) -> String {
        let positions = result.positions
        switch positions.count {
        case 0:
            return "appended nothing to \(result.stream)"
        case 1:
            return "appended 1 event to \(result.stream) at revision \(result.firstRevision) (position \(positions[0]))"
        default:
            return "appended \(positions.count) events to \(result.stream) at revisions \(result.firstRevision)–\(result.lastRevision) (positions \(positions[0])–\(positions[positions.count - 1]))"
        }
    }

    /// A group in a few words: `NAME (selector, strategy, from …)`.
    package static func summary(_ info: GroupInfo) -> String {
        "\(info.name) (\(info.settings.selector), \(info.settings.strategy), from \(info.settings.start))"
    }

    /// A view in a few words: `NAME (group G, indexes $.a, $.b)`.
    package static func summary(_ view: ViewDefinition) -> String {
        let indexes = view.indexedPaths.isEmpty ? "no indexes" : "indexes " + view.indexedPaths.joined(separator: ", ")
        return "\(view.name) (group \(view.group), \(indexes))"
    }

    /// A group's settings and progress, one `[name, value]` row each (`groups info`).
    package static func details(_ info: GroupInfo) -> [[String]] {
        let settings = info.settings
        var rows: [[String]] = [
            ["group", settings.name],
            ["selector", settings.selector.description],
            ["from", settings.start.description],
        ]
        if !settings.filter.eventTypes.isEmpty {
            rows.append(["event types", settings.filter.eventTypes.joined(separator: ", ")])
        }
        if let prefix = settings.filter.streamPrefix {
            rows.append(["stream prefix", prefix])
        }
        return rows + [
            ["strategy", settings.strategy.description],
            ["max in flight", String(settings.maxInFlight)],
            ["ack timeout", PlainText.duration(settings.ackTimeout)],
            ["max deliveries", String(settings.maxDeliveries)],
            ["retry backoff", PlainText.duration(settings.retryBackoff)],
            ["checkpoint", String(info.checkpoint)],
            ["lag", String(info.lag)],
            ["consumers", String(info.consumers)],
            ["in flight", String(info.inFlight)],
            ["parked", String(info.parked)],
        ]
    }

    /// Groups as `groups list` shows them: a heading, then a row each.
    package static func table(_ groups: [GroupInfo]) -> [[String]] {
        [["NAME", "SELECTOR", "STRATEGY", "CHECKPOINT", "LAG", "CONSUMERS", "IN-FLIGHT", "PARKED"]]
            + groups.map { info in
                [
                    info.name, info.settings.selector.description, info.settings.strategy.description,
                    String(info.checkpoint), String(info.lag), String(info.consumers), String(info.inFlight),
                    String(info.parked),
                ]
            }
    }

    /// Views as `views list` shows them: a heading, then a row each.
    package static func table(_ views: [ViewDefinition]) -> [[String]] {
        [["NAME", "GROUP", "INDEXES"]]
            + views.map { [$0.name, $0.group, $0.indexedPaths.isEmpty ? "-" : $0.indexedPaths.joined(separator: " ")] }
    }

    /// A duration of whole milliseconds: `250 ms`, `30 s`, `1.5 s`.
    package static func duration(_ duration: Duration) -> String {
        let milliseconds = duration.roundedUpMilliseconds
        guard milliseconds >= 1000 else { return "\(milliseconds) ms" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        return "\(Double(milliseconds) / 1000) s"
    }

    /// Rows as lines of left-aligned columns, two spaces apart (the last column is not padded).
    package static func table(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }
    }
}
