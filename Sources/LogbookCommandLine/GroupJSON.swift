package import Logbook

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
        out.append(UInt8(ascii: "{"))
        JSON.appendMember("name", settings.name, to: &out)
        JSON.appendKey("selector", to: &out)
        Self.append(settings.selector, to: &out)
        JSON.appendKey("from", to: &out)
        if case .position(let position) = settings.start.point {
            JSON.appendInteger(position, to: &out)
        } else {
            JSON.appendString(settings.start.description, to: &out)
        }
        JSON.appendKey("filter", to: &out)
        Self.append(settings.filter, to: &out)
        JSON.appendMember("strategy", settings.strategy.description, to: &out)
        JSON.appendMember("max_in_flight", settings.maxInFlight, to: &out)
        JSON.appendMember("ack_timeout_ms", settings.ackTimeout.roundedUpMilliseconds, to: &out)
        JSON.appendMember("max_deliveries", settings.maxDeliveries, to: &out)
        JSON.appendMember("retry_backoff_ms", settings.retryBackoff.roundedUpMilliseconds, to: &out)
        JSON.appendMember("checkpoint", info.checkpoint, to: &out)
        JSON.appendMember("lag", info.lag, to: &out)
        JSON.appendMember("consumers", info.consumers, to: &out)
        JSON.appendMember("in_flight", info.inFlight, to: &out)
        JSON.appendMember("parked", info.parked, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends a parked event: the event's members as `read --json` prints them, then
    /// `"reason"`, `"attempts"` and `"parked_at"` (RFC 3339, like `time`).
    package static func append(_ parked: ParkedEvent, to out: inout [UInt8]) {
        EventJSON.append(parked.event, to: &out) { out in
            JSON.appendMember("reason", parked.reason, to: &out)
            JSON.appendMember("attempts", parked.attempts, to: &out)
            JSON.appendKey("parked_at", to: &out)
            RFC3339.appendQuoted(unixMicros: parked.parkedAtUnixMicros, to: &out)
        }
    }

    private static func append(_ selector: ReadSelector, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        switch selector.kind {
        case .stream(let name): JSON.appendMember("stream", name, to: &out)
        case .all:
            JSON.appendKey("all", to: &out)
            out.append(contentsOf: "{}".utf8)
        case .category(let category): JSON.appendMember("category", category, to: &out)
        case .eventType(let type): JSON.appendMember("event_type", type, to: &out)
        case .correlationID(let id): JSON.appendMember("correlation_id", id, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func append(_ filter: ReadFilter, to out: inout [UInt8]) {
        guard !filter.eventTypes.isEmpty || filter.streamPrefix != nil else {
            out.append(contentsOf: "null".utf8)
            return
        }
        out.append(UInt8(ascii: "{"))
        JSON.appendMember("event_types", filter.eventTypes, to: &out)
        JSON.appendMember("stream_prefix", filter.streamPrefix, to: &out)
        out.append(UInt8(ascii: "}"))
    }
}
