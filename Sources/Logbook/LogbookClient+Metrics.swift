internal import LogbookWire

extension LogbookClient {
    /// The daemon's metrics in Prometheus's text exposition format (version 0.0.4): what
    /// `logbookd --metrics-listen` serves at `/metrics`, over the socket. Under `--acl` it
    /// needs admin.
    public func metrics(timeout: Duration? = nil) async throws -> String {
        let reply = try await self.admin(.metrics(Empty()), timeout: timeout)
        guard case .metrics(let text) = reply else {
            throw Self.unexpected(reply, call: "metrics")
        }
        return text
    }
}
