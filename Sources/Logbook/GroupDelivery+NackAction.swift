internal import LogbookWire

extension GroupDelivery {
    /// What a consumer asks the group to do with a delivery it will not ack.
    ///
    /// A struct rather than an enum so that actions can be added without breaking a `switch`.
    /// Nested in ``GroupDelivery`` so that it does not clash with the wire type of that name.
    public struct NackAction: Sendable, Hashable, CustomStringConvertible {
        enum Kind: Sendable, Hashable {
            case retry
            case park
            case skip
        }

        let kind: Kind


        /// Deliver it again (attempt + 1) after the group's retry back-off; past the group's
        /// `maxDeliveries` it is parked.
        public static let retry = NackAction(kind: .retry)
        /// Park it now: it leaves delivery until the parked events are replayed. Under
        /// `byStream` the later events of its stream are held behind it.
        public static let park = NackAction(kind: .park)
        /// Drop it: it counts as settled and is never delivered again.
        public static let skip = NackAction(kind: .skip)

        public var description: String {
            switch self.kind {
            case .retry: "retry"
            case .park: "park"
            case .skip: "skip"
            }
        }

        /// Whether the daemon records the outcome durably and confirms it (park and skip do;
        /// a retry just comes again).
        var settles: Bool {
            self.kind != .retry
        }

        var wire: LogbookWire.NackAction {
            switch self.kind {
            case .retry: .retry
            case .park: .park
            case .skip: .skip
            }
        }
    }
}
