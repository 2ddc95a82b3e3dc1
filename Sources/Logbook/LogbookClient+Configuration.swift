extension LogbookClient {
    /// How a client rides out the loss of its connection (a daemon restart, a replaced
    /// socket).
    ///
    /// ```swift
    /// var configuration = LogbookClient.Configuration()
    /// configuration.reconnectWait = .seconds(5)
    /// let client = try await LogbookClient.connect(configuration: configuration)
    /// ```
    public struct Configuration: Sendable, Hashable {
        /// How long a call with no timeout waits for the daemon while the connection is down
        /// before it fails with `.unavailable`, counted from when the call found it down (an
        /// append the daemon held for longer is still sent again); a call with a timeout waits up to its timeout
        /// instead. 30 seconds by default: a daemon restart takes well under a second, a
        /// reboot or an upgrade a few seconds, and a caller should not hang much longer.
        public var reconnectWait: Duration

        /// Whether an append in flight when the connection is lost is sent again on the next
        /// connection, until it succeeds or its timeout (else ``reconnectWait``) runs out.
        /// True by default.
        ///
        /// Safe because an append carries its event ids and the daemon's idempotency has no
        /// time window: if the first attempt committed, the retry returns its revisions and
        /// positions and writes nothing. With this off, such an append fails with
        /// `.unavailable` and ``LogbookError/isSafeToRetry`` true.
        public var retriesAppends: Bool

        /// The defaults: a 30-second reconnect wait, appends retried.
        public init() {
            self.reconnectWait = ClientLimits.reconnectWaitDefault
            self.retriesAppends = true
        }
    }
}
