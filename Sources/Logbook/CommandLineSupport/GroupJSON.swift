/// The JSON the command-line tool prints for subscription groups and their parked events,
/// one object per line.
package enum GroupJSON {
    /// Appends a group as one flat object (no newline): its settings, then its progress.
    ///
    /// `{"name","selector","from","filter","strategy","max_in_flight","ack_timeout_ms",
    /// "max_deliveries","retry_backoff_ms","checkpoint","lag","consumers","in_flight","parked"}`
    ///
    /// `selector` is an object with one member, named as in the protocol: `{"stream":"s"}`,
    /// `{"all":{}}`, `{"category":"c"}`, `{"event_type":"t"}` or `{"correlation_id":"id"}`.
    /// `from` is `"start"`, `"end"` or the first position as a number, as `--from` takes it.
    /// `filter` is `null` or `{"event_types":[…],"stream_prefix":"p" or null}`.
    package static func append(_ info: GroupInfo, to out: inout [UInt8]) {
        let settings = info.settings
        out.append(contentsOf: #"{"name":"#.utf8)
        JSON.appendString(settings.name, to: &out)
        out.append(contentsOf: #","selector":"#.utf8)
        self.append(settings.selector, to: &out)
        out.append(contentsOf: #","from":"#.utf8)
        switch settings.start.kind {
        case .start: out.append(contentsOf: #""start""#.utf8)
        case .end: out.append(contentsOf: #""end""#.utf8)
        case .position(let position): JSON.appendInteger(position, to: &out)
        }
        out.append(contentsOf: #","filter":"#.utf8)
        self.append(settings.filter, to: &out)
        out.append(contentsOf: #","strategy":"#.utf8)
        JSON.appendString(settings.strategy.description, to: &out)
        self.appendMember("max_in_flight", settings.maxInFlight, to: &out)
        self.appendMember("ack_timeout_ms", self.milliseconds(settings.ackTimeout), to: &out)
        self.appendMember("max_deliveries", settings.maxDeliveries, to: &out)
        self.appendMember("retry_backoff_ms", self.milliseconds(settings.retryBackoff), to: &out)
        self.appendMember("checkpoint", info.checkpoint, to: &out)
        self.appendMember("lag", info.lag, to: &out)
        self.appendMember("consumers", info.consumers, to: &out)
        self.appendMember("in_flight", info.inFlight, to: &out)
        self.appendMember("parked", info.parked, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// One group as a JSON line (without the newline).
    package static func line(_ info: GroupInfo) -> String {
        var out: [UInt8] = []
        self.append(info, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends a parked event: the event's members as `read --json` prints them, then
    /// `"reason"`, `"attempts"` and `"parked_at"` (RFC 3339, like `time`).
    package static func append(_ parked: ParkedEvent, to out: inout [UInt8]) {
        EventJSON.append(parked.event, to: &out)
        out.removeLast()  // the event object's closing brace
        out.append(contentsOf: #","reason":"#.utf8)
        JSON.appendString(parked.reason, to: &out)
        self.appendMember("attempts", parked.attempts, to: &out)
        out.append(contentsOf: #","parked_at":""#.utf8)
        RFC3339.append(unixMicros: parked.parkedAtUnixMicros, to: &out)
        out.append(contentsOf: #""}"#.utf8)
    }

    /// One parked event as a JSON line (without the newline).
    package static func line(_ parked: ParkedEvent) -> String {
        var out: [UInt8] = []
        self.append(parked, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A duration in whole milliseconds, as the group settings carry it.
    package static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    private static func append(_ selector: ReadSelector, to out: inout [UInt8]) {
        let member: String
        let value: String?
        switch selector.kind {
        case .stream(let name): (member, value) = ("stream", name)
        case .all: (member, value) = ("all", nil)
        case .category(let category): (member, value) = ("category", category)
        case .eventType(let type): (member, value) = ("event_type", type)
        case .correlationID(let id): (member, value) = ("correlation_id", id)
        }
        out.append(UInt8(ascii: "{"))
        JSON.appendString(member, to: &out)
        out.append(UInt8(ascii: ":"))
        if let value {
            JSON.appendString(value, to: &out)
        } else {
            out.append(contentsOf: "{}".utf8)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func append(_ filter: ReadFilter, to out: inout [UInt8]) {
        guard !filter.eventTypes.isEmpty || filter.streamPrefix != nil else {
            out.append(contentsOf: "null".utf8)
            return
        }
        out.append(contentsOf: #"{"event_types":["#.utf8)
        for (index, type) in filter.eventTypes.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSON.appendString(type, to: &out)
        }
        out.append(contentsOf: #"],"stream_prefix":"#.utf8)
        if let prefix = filter.streamPrefix {
            JSON.appendString(prefix, to: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func appendMember(_ name: String, _ value: some BinaryInteger, to out: inout [UInt8]) {
        out.append(contentsOf: ",\"\(name)\":".utf8)
        JSON.appendInteger(value, to: &out)
    }
}
