internal import LogbookWire

// The mapping between the public group types and the wire's Admin messages. As in
// WireMapping.swift, the public types shadow the wire types of the same name, so the
// wire's are spelled `LogbookWire.…` here.
//
// The wire uses 0 for "the server's default" in every number of GroupSettings, so a 0 the
// user gave would silently become a default: it is refused here instead. A 0 from the
// server reads as that default.

extension GroupSettings {
    /// The wire's settings; fails with `INVALID_ARGUMENT` for a value the wire cannot carry.
    func wire() throws(LogbookError) -> LogbookWire.GroupSettings {
        LogbookWire.GroupSettings(
            name: self.name,
            selector: self.selector.wire,
            from: self.start.point.wire,
            filter: self.filter.eventTypes.isEmpty && (self.filter.streamPrefix ?? "").isEmpty ? nil : self.filter.wire,
            strategy: self.strategy.wire,
            maxInFlight: try Self.count(self.maxInFlight, field: "maxInFlight"),
            ackTimeoutMs: try Self.milliseconds(self.ackTimeout, field: "ackTimeout"),
            maxDeliveries: try Self.count(self.maxDeliveries, field: "maxDeliveries"),
            retryBackoffMs: try Self.milliseconds(self.retryBackoff, field: "retryBackoff")
        )
    }

    /// The public settings for the server's; fails when the server left out the selector or
    /// sent a start a group cannot have.
    init(wire: LogbookWire.GroupSettings) throws(LogbookError) {
        let selector = try required(wire.selector.flatMap(ReadSelector.init(wire:)), "group \(wire.name) without a selector")
        let start = StartPoint(wire: wire.from)
        if case .revision = start {
            throw LogbookError(code: .internalError, message: "the server sent group \(wire.name) starting at a revision")
        }
        self.init(
            name: wire.name,
            selector: selector,
            start: Start(point: start),
            filter: wire.filter.map(ReadFilter.init(wire:)) ?? ReadFilter(),
            strategy: Strategy(wire: wire.strategy),
            maxInFlight: wire.maxInFlight == 0 ? Self.defaultMaxInFlight : Int(wire.maxInFlight),
            ackTimeout: wire.ackTimeoutMs == 0 ? Self.defaultAckTimeout : .milliseconds(wire.ackTimeoutMs),
            maxDeliveries: wire.maxDeliveries == 0 ? Self.defaultMaxDeliveries : Int(wire.maxDeliveries),
            retryBackoff: wire.retryBackoffMs == 0 ? Self.defaultRetryBackoff : .milliseconds(wire.retryBackoffMs)
        )
    }

    private static func count(_ value: Int, field: String) throws(LogbookError) -> UInt32 {
        guard value > 0, let count = UInt32(exactly: value) else {
            throw Self.invalid(field, "must be 1…\(UInt32.max), not \(value)")
        }
        return count
    }

    /// Whole milliseconds, rounded up so that a positive duration never becomes 0.
    private static func milliseconds(_ duration: Duration, field: String) throws(LogbookError) -> UInt32 {
        guard duration > .zero else {
            throw Self.invalid(field, "must be at least 1 ms, not \(duration)")
        }
        guard let milliseconds = UInt32(exactly: duration.roundedUpMilliseconds) else {
            throw Self.invalid(field, "must be at most \(UInt32.max) ms, not \(duration)")
        }
        return milliseconds
    }

    private static func invalid(_ field: String, _ reason: String) -> LogbookError {
        LogbookError(
            code: .invalidArgument,
            message: "group settings not sent: \(field) \(reason)",
            details: .badField(field: "GroupSettings.\(field)", reason: reason)
        )
    }
}

extension GroupSettings.Strategy {
    var wire: LogbookWire.Strategy {
        switch self.kind {
        case .byStream: .byStream
        case .roundRobin: .roundRobin
        case .single: .single
        }
    }

    init(wire: LogbookWire.Strategy) {
        switch wire {
        case .byStream: self = .byStream
        case .roundRobin: self = .roundRobin
        case .single: self = .single
        }
    }
}

extension ReadSelector {
    /// Nil when the wire's selector names nothing.
    init?(wire: Selector) {
        switch wire.kind {
        case .stream(let name)?: self = .stream(name)
        case .all?: self = .all
        case .category(let category)?: self = .category(category)
        case .eventType(let type)?: self = .eventType(type)
        case .correlationID(let id)?: self = .correlationID(id)
        case nil: return nil
        }
    }
}

extension ReadFilter {
    init(wire: Filter) {
        self.init(eventTypes: wire.eventTypes, streamPrefix: wire.streamPrefix.isEmpty ? nil : wire.streamPrefix)
    }
}

extension GroupInfo {
    init(wire: LogbookWire.GroupInfo) throws(LogbookError) {
        self.init(
            settings: try GroupSettings(wire: required(wire.settings, "a group's info without its settings")),
            checkpoint: wire.checkpoint,
            lag: wire.lag,
            consumers: Int(wire.consumers),
            inFlight: Int(wire.inFlight),
            parked: Int(clamping: wire.parked)
        )
    }
}

extension ParkedEvent {
    init(wire: LogbookWire.ParkedEvent) throws(LogbookError) {
        self.init(
            event: try RecordedEvent(wire: required(wire.event, "a parked event without the event")),
            reason: wire.reason,
            attempts: Int(wire.attempts),
            parkedAtUnixMicros: wire.parkedUnixMicros
        )
    }
}

/// `value`, or the failure of a reply that left it out: `reply` says what the server sent,
/// e.g. "a parked event without the event".
private func required<Value>(_ value: Value?, _ reply: @autoclosure () -> String) throws(LogbookError) -> Value {
    guard let value else {
        throw LogbookError(code: .internalError, message: "the server sent \(reply())")
    }
    return value
}
