internal import LogbookWire

// The mapping between the public group types and the wire's Admin messages. As in
// WireMapping.swift, the public types shadow the wire types of the same name, so the
// wire's are spelled `LogbookWire.…` here.
//
// The wire uses 0 for "the server's default" in every number of GroupSettings, so a 0 the
// user gave would silently become a default: it is refused here instead.

extension GroupSettings {
    /// The wire's settings; fails with `INVALID_ARGUMENT` for a value the wire cannot carry.
    func wire() throws(LogbookError) -> LogbookWire.GroupSettings {
        LogbookWire.GroupSettings(
            name: self.name,
            selector: self.selector.wire,
            from: self.start.wire,
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
        guard let selector = wire.selector.flatMap(ReadSelector.init(wire:)) else {
            throw LogbookError(code: .internalError, message: "the server sent group \(wire.name) without a selector")
        }
        let start: Start
        switch wire.from?.kind {
        case nil, .start?: start = .start
        case .end?: start = .end
        case .position(let position)?: start = .position(position)
        case .revision?:
            throw LogbookError(code: .internalError, message: "the server sent group \(wire.name) starting at a revision")
        }
        self.init(
            name: wire.name,
            selector: selector,
            start: start,
            filter: wire.filter.map(ReadFilter.init(wire:)) ?? ReadFilter(),
            strategy: Strategy(wire: wire.strategy),
            maxInFlight: Int(wire.maxInFlight),
            ackTimeout: .milliseconds(Int64(wire.ackTimeoutMs)),
            maxDeliveries: Int(wire.maxDeliveries),
            retryBackoff: .milliseconds(Int64(wire.retryBackoffMs))
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
        let (seconds, attoseconds) = duration.components
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        guard duration > .zero else {
            throw Self.invalid(field, "must be at least 1 ms, not \(duration)")
        }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        let fraction = (attoseconds + attosecondsPerMillisecond - 1) / attosecondsPerMillisecond
        guard !overflow, let milliseconds = UInt32(exactly: whole + fraction) else {
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

extension GroupSettings.Start {
    var wire: StartFrom {
        switch self.kind {
        case .start: StartFrom(kind: .start(Empty()))
        case .end: StartFrom(kind: .end(Empty()))
        case .position(let position): StartFrom(kind: .position(position))
        }
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
        guard let settings = wire.settings else {
            throw LogbookError(code: .internalError, message: "the server sent a group's info without its settings")
        }
        self.init(
            settings: try GroupSettings(wire: settings),
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
        guard let event = wire.event else {
            throw LogbookError(code: .internalError, message: "the server sent a parked event without the event")
        }
        self.init(
            event: try RecordedEvent(wire: event),
            reason: wire.reason,
            attempts: Int(wire.attempts),
            parkedAtUnixMicros: wire.parkedUnixMicros
        )
    }
}
