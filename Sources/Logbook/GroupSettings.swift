/// A persistent subscription group as created with ``LogbookClient/createGroup(_:timeout:)``.
///
/// `name`, `selector`, `start` and `filter` fix which events the group covers: they cannot
/// change once the group exists (delete it and create it again). The rest are settings
/// ``LogbookClient/updateGroup(_:timeout:)`` replaces. The defaults are the server's.
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
        strategy: Strategy = .byStream,
        maxInFlight: Int = 64,
        ackTimeout: Duration = .seconds(30),
        maxDeliveries: Int = 10,
        retryBackoff: Duration = .milliseconds(200)
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

extension GroupSettings {
    /// Where a group begins, fixed when it is created.
    ///
    /// Unlike ``SubscriptionStart``, a position here is inclusive: it is the first
    /// position the group delivers.
    public struct Start: Sendable, Hashable, CustomStringConvertible {
        enum Kind: Sendable, Hashable {
            case start
            case end
            case position(UInt64)
        }

        let kind: Kind

        init(_ kind: Kind) {
            self.kind = kind
        }

        /// The whole history the selector covers, then what is appended.
        public static let start = Start(.start)
        /// Only what is appended after the group is created.
        public static let end = Start(.end)
        /// From this position of the log on, inclusive.
        public static func position(_ position: UInt64) -> Start { Start(.position(position)) }

        public var description: String {
            switch self.kind {
            case .start: "start"
            case .end: "end"
            case .position(let position): "position \(position)"
            }
        }
    }

    /// How a group shares deliveries between its consumers.
    ///
    /// A struct rather than an enum so that strategies can be added without breaking a
    /// `switch`.
    public struct Strategy: Sendable, Hashable, CustomStringConvertible {
        enum Kind: Sendable, Hashable {
            case byStream
            case roundRobin
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

        /// `by-stream`, `round-robin` or `single`, as the command line spells it.
        public var description: String {
            switch self.kind {
            case .byStream: "by-stream"
            case .roundRobin: "round-robin"
            case .single: "single"
            }
        }
    }
}
