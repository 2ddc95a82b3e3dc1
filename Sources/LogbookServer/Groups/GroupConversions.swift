internal import LogbookStorage
internal import LogbookWire

/// Group settings between the wire, the store and the state machine.
enum GroupConversions {
    private static let strategies: [(LogbookWire.Strategy, String)] = [
        (.byStream, "by_stream"), (.roundRobin, "round_robin"), (.single, "single"),
    ]

    static func definition(_ settings: LogbookWire.GroupSettings, limits: Limits) throws(CallError) -> GroupDefinition {
        try Conversions.checkName(settings.name, field: "GroupSettings.name", limits: limits)
        let selector = try Conversions.selector(settings.selector, limits: limits)
        let start: GroupStart
        switch settings.from?.kind {
        case nil, .start: start = .start
        case .end: start = .end
        case .position(let position): start = .position(position)
        case .revision:
            throw CallError.badField("GroupSettings.from", "a group starts at the start, the end or a position of the log")
        }
        let defaults = GroupDefinition(name: settings.name, selector: selector)
        return GroupDefinition(
            name: settings.name,
            selector: selector,
            start: start,
            filter: Conversions.filter(settings.filter) ?? ReadFilter(),
            strategy: self.strategies.first { $0.0 == settings.strategy }?.1 ?? defaults.strategy,
            maxInFlight: settings.maxInFlight == 0 ? defaults.maxInFlight : settings.maxInFlight,
            ackTimeoutMilliseconds: settings.ackTimeoutMs == 0 ? defaults.ackTimeoutMilliseconds : settings.ackTimeoutMs,
            maxDeliveries: settings.maxDeliveries == 0 ? defaults.maxDeliveries : settings.maxDeliveries,
            retryBackoffMilliseconds: settings.retryBackoffMs == 0 ? defaults.retryBackoffMilliseconds : settings.retryBackoffMs
        )
    }

    static func settings(_ definition: GroupDefinition) -> LogbookWire.GroupSettings {
        let selector: LogbookWire.Selector.Kind
        switch definition.selector {
        case .stream(let name): selector = .stream(name)
        case .all: selector = .all(Empty())
        case .category(let name): selector = .category(name)
        case .eventType(let name): selector = .eventType(name)
        case .correlationID(let id): selector = .correlationID(id)
        }
        let from: StartFrom.Kind
        switch definition.start {
        case .start: from = .start(Empty())
        case .end: from = .end(Empty())
        case .position(let position): from = .position(position)
        }
        return LogbookWire.GroupSettings(
            name: definition.name,
            selector: LogbookWire.Selector(kind: selector),
            from: StartFrom(kind: from),
            filter: definition.filter.eventTypes.isEmpty && definition.filter.streamPrefix.isEmpty
                ? nil : LogbookWire.Filter(eventTypes: definition.filter.eventTypes, streamPrefix: definition.filter.streamPrefix),
            strategy: self.strategies.first { $0.1 == definition.strategy }?.0 ?? .byStream,
            maxInFlight: definition.maxInFlight,
            ackTimeoutMs: definition.ackTimeoutMilliseconds,
            maxDeliveries: definition.maxDeliveries,
            retryBackoffMs: definition.retryBackoffMilliseconds
        )
    }

    static func parkedEvent(_ parked: LogbookStorage.ParkedEvent) -> LogbookWire.ParkedEvent {
        LogbookWire.ParkedEvent(
            event: Conversions.recordedEvent(parked.event),
            reason: parked.reason,
            attempts: parked.attempts,
            parkedUnixMicros: parked.parkedMicros
        )
    }
}

extension GroupDefinition {
    /// The settings the state machine runs with.
    var policy: GroupPolicy {
        var settings = GroupPolicy()
        switch self.strategy {
        case "round_robin": settings.strategy = .roundRobin
        case "single": settings.strategy = .single
        default: settings.strategy = .byStream
        }
        settings.maxInFlight = Int(self.maxInFlight)
        settings.ackTimeout = .milliseconds(Int(self.ackTimeoutMilliseconds))
        settings.maxDeliveries = Int(self.maxDeliveries)
        settings.retryBackoff = .milliseconds(Int(self.retryBackoffMilliseconds))
        return settings
    }
}
