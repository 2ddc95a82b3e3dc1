/// What both ends of a connection agree on beyond the message shapes of `Protos/`: the
/// protocol version `Hello` names, and the values a request's zero fields stand for.
package enum WireProtocol {
    /// The version `Hello` and `HelloReply` carry. A server refuses a Hello with another.
    package static let version: UInt32 = 1
    /// The release this build is: the daemon reports it in `HelloReply`, the CLI in
    /// `--version`. One number for the whole project, which ships as one.
    package static let release = "0.1.0"
}

/// The settings a subscription group runs with when its `GroupSettings` leaves a field at 0.
///
/// On the wire 0 means "the server's default" (proto3 cannot tell 0 from unset), and these
/// are those defaults: the server fills them in when it creates or updates a group, and the
/// clients show them (the CLI's help text reads them). Change a default here and nowhere else.
package enum GroupDefaults {
    /// Deliveries one consumer may hold un-acked: enough to keep a worker busy through a
    /// round trip, few enough that a crashed worker strands little.
    package static let maxInFlight: UInt32 = 64
    /// How long a delivery may stay un-acked before it is taken back and delivered again.
    package static let ackTimeoutMilliseconds: UInt32 = 30_000
    /// Deliveries of one event before it is parked: a poison event stops costing work.
    package static let maxDeliveries: UInt32 = 10
    /// The wait before the first redelivery; it doubles with each attempt.
    package static let retryBackoffMilliseconds: UInt32 = 200
}

/// What a `QueryRequest` field left at 0 stands for, and the page size both sides hold a
/// request to.
package enum QueryDefaults {
    /// How long a query with `min_position` and no `wait_ms` waits for its view to catch
    /// up. A worker is usually milliseconds behind; seconds cover a restarting one.
    package static let wait: Duration = .seconds(5)
    /// The most rows one page may ask for. The client checks it before sending, so that the
    /// error names the argument; the server refuses more (its store holds the same bound
    /// as `StorageLimits.queryRowsMax`, which cannot see this module; a server test ties them).
    package static let rowsMax = 10_000
}
