/// A persistent subscription group and how far it has got, as the daemon reports it.
public struct GroupInfo: Sendable, Hashable {
    /// The group's settings, with the server's defaults filled in.
    public var settings: GroupSettings
    /// The position at and below which every event is acked, parked or skipped; it
    /// survives a restart of the daemon. A new group's is the position before its start.
    public var checkpoint: UInt64
    /// How many positions of the log lie after the checkpoint.
    public var lag: UInt64
    /// The consumers connected now.
    public var consumers: Int
    /// The deliveries consumers hold un-acked now.
    public var inFlight: Int
    /// The events parked (delivered `maxDeliveries` times, or nacked with park), waiting
    /// for ``LogbookClient/replayParked(in:timeout:)``.
    public var parked: Int

    public init(settings: GroupSettings, checkpoint: UInt64, lag: UInt64, consumers: Int, inFlight: Int, parked: Int) {
        self.settings = settings
        self.checkpoint = checkpoint
        self.lag = lag
        self.consumers = consumers
        self.inFlight = inFlight
        self.parked = parked
    }

    /// The group's name.
    public var name: String { self.settings.name }
}
