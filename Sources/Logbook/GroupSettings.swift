internal import LogbookWire

/// A persistent subscription group as created with ``LogbookClient/createGroup(_:timeout:)``.
///
/// `name`, `selector`, `start` and `filter` fix which events the group covers: they cannot
/// change once the group exists (delete it and create it again). The rest are settings
/// ``LogbookClient/updateGroup(_:timeout:)`` replaces. The defaults are the server's
/// (``defaultMaxInFlight`` and the others below).
///
/// ```swift
/// var settings = GroupSettings(name: "orders-projection", selector: .category("order"))
/// settings.maxDeliveries = 3
/// try await client.createGroup(settings)
/// ```
public struct GroupSettings: Sendable, Hashable {
    /// Unique among the daemon's groups.
    public var name: String
    /// Which events the group delivers.
    public var selector: ReadSelector
    /// Where in the log the group begins.
    public var start: Start
    /// Narrows `selector` further; the empty filter keeps every event.
    public var filter: ReadFilter
    /// How deliveries are shared between the group's consumers.
    public var strategy: Strategy
    /// The most deliveries one consumer holds un-acked at a time (1 or more).
    public var maxInFlight: Int
    /// How long a delivery may stay un-acked before it is delivered again (whole
    /// milliseconds, rounded up; at least 1 ms).
    public var ackTimeout: Duration
    /// How many times an event is delivered before it is parked (1 or more).
    public var maxDeliveries: Int
    /// How long a nacked or timed-out event waits before it is delivered again (whole
    /// milliseconds, rounded up; at least 1 ms).
    public var retryBackoff: Duration

    public init(
        name: String,
        selector: ReadSelector,
        start: Start = .start,
        filter: ReadFilter = ReadFilter(),
        strategy: Strategy = GroupSettings.defaultStrategy,
        maxInFlight: Int = GroupSettings.defaultMaxInFlight,
        ackTimeout: Duration = GroupSettings.defaultAckTimeout,
        maxDeliveries: Int = GroupSettings.defaultMaxDeliveries,
        retryBackoff: Duration = GroupSettings.defaultRetryBackoff
    ) {
        self.name = name
        self.selector = selector
        self.start = start
        self.filter = filter
        self.strategy = strategy
        self.maxInFlight = maxInFlight
        self.ackTimeout = ackTimeout
        self.maxDeliveries = maxDeliveries
        self.retryBackoff = retryBackoff
    }
}


// The server's defaults: the values it gives a setting sent as 0. They live in
// `LogbookWire.GroupDefaults`, the one home both ends read.
extension GroupSettings {
    /// How deliveries are shared unless the group says otherwise (the wire's default, the
    /// first of its strategies).
    public static let defaultStrategy = Strategy.byStream
    /// The deliveries one consumer holds un-acked unless the group says otherwise.
    public static let defaultMaxInFlight = Int(GroupDefaults.maxInFlight)
    /// How long a delivery stays un-acked before it is delivered again, unless the group
    /// says otherwise.
    public static let defaultAckTimeout = Duration.milliseconds(GroupDefaults.ackTimeoutMilliseconds)
    /// How many times an event is delivered before it is parked, unless the group says
    /// otherwise.
    public static let defaultMaxDeliveries = Int(GroupDefaults.maxDeliveries)
    /// How long a nacked or timed-out event waits before it is delivered again, unless the
    /// group says otherwise.
    public static let defaultRetryBackoff = Duration.milliseconds(GroupDefaults.retryBackoffMilliseconds)
}

extension GroupSettings {
    /// Where a group begins, fixed when it is created.
    ///
    /// Unlike ``SubscriptionStart``, a position here is inclusive: it is the first
    /// position the group delivers.
    public struct Start: Sendable, Hashable, CustomStringConvertible {
        package let point: StartPoint

        /// The whole history the selector covers, then what is appended.
        public static let start = Start(point: .start)
        /// Only what is appended after the group is created.
        public static let end = Start(point: .end)
        /// From this position of the log on, inclusive.
        public static func position(_ position: UInt64) -> Start { Start(point: .position(position)) }

        public var description: String {
            self.point.description
        }
    }

    /// How a group shares deliveries between its consumers.
    ///
    /// A struct rather than an enum so that strategies can be added without breaking a
    /// `switch`. Its description is the one spelling the command line and its output use
    /// (`by-stream`, `round-robin`, `single`), and ``init(_:)`` reads it back.
    public struct Strategy: Sendable, Hashable, LosslessStringConvertible {
        enum Kind: String, Sendable, Hashable, CaseIterable {
            case byStream = "by-stream"
            case roundRobin = "round-robin"
            case single
        }

        let kind: Kind

        init(_ kind: Kind) {
            self.kind = kind
        }

        /// A stream's events always go to one consumer, in order, each after the previous
        /// one is acked: what projections need. The default.
        public static let byStream = Strategy(.byStream)
        /// Each event to the next consumer with room, whatever its stream.
        public static let roundRobin = Strategy(.roundRobin)
        /// One active consumer; the others stand by and take over when it disconnects.
        public static let single = Strategy(.single)

        /// Every strategy, in the order the command line lists them.
        public static let all: [Strategy] = Kind.allCases.map { Strategy($0) }

        /// The strategy `by-stream`, `round-robin` or `single` names; nil for another word.
        /// The server's spelling (`by_stream`, as `$groups` shows it) is read too.
        public init?(_ description: String) {
            let spelled = String(description.map { $0 == "_" ? "-" : $0 })
            guard let kind = Kind(rawValue: spelled) else { return nil }
            self.init(kind)
        }

        /// `by-stream`, `round-robin` or `single`, as the command line spells it.
        public var description: String {
            self.kind.rawValue
        }
    }
}
