internal import LogbookStorage
internal import LogbookWire

/// Group settings between the wire and the store: the one mapping of strategies, and the
/// one place a client's 0 becomes the server's default (`GroupDefaults`).
enum GroupConversions {
    static func definition(_ settings: LogbookWire.GroupSettings, limits: Limits) throws(CallError) -> GroupDefinition {
        try Conversions.checkName(settings.name, field: "GroupSettings.name", limits: limits)
        let selector = try Conversions.selector(settings.selector, limits: limits)
        /// A 0 on the wire means "the server's default" (proto3 cannot tell 0 from unset).
        func orDefault(_ value: UInt32, _ fallback: UInt32) -> UInt32 { value == 0 ? fallback : value }
        return GroupDefinition(
            name: settings.name,
            selector: selector,
            start: try Conversions.groupStart(settings.from),
            filter: Conversions.filter(settings.filter) ?? ReadFilter(),
            strategy: self.strategy(settings.strategy),
            maxInFlight: orDefault(settings.maxInFlight, GroupDefaults.maxInFlight),
            ackTimeoutMilliseconds: orDefault(settings.ackTimeoutMs, GroupDefaults.ackTimeoutMilliseconds),
            maxDeliveries: orDefault(settings.maxDeliveries, GroupDefaults.maxDeliveries),
            retryBackoffMilliseconds: orDefault(settings.retryBackoffMs, GroupDefaults.retryBackoffMilliseconds)
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
            strategy: self.strategy(definition.strategy),
            maxInFlight: definition.maxInFlight,
            ackTimeoutMs: definition.ackTimeoutMilliseconds,
            maxDeliveries: definition.maxDeliveries,
            retryBackoffMs: definition.retryBackoffMilliseconds
        )
    }

    /// The one mapping between the wire's strategies and the store's.
    static func strategy(_ strategy: LogbookWire.Strategy) -> GroupStrategy {
        switch strategy {
        case .byStream: .byStream
        case .roundRobin: .roundRobin
        case .single: .single
        }
    }

    /// The inverse of the mapping above (it is one to one: every stored strategy came
    /// through it).
    static func strategy(_ strategy: GroupStrategy) -> LogbookWire.Strategy {
        LogbookWire.Strategy.allCases.first { self.strategy($0) == strategy } ?? .byStream
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
