internal import LogbookWire

extension LogbookClient {
    /// Appends events to one stream.
    ///
    /// - Parameters:
    ///   - stream: The stream's name.
    ///   - expected: What the stream must look like first; `.any` does not check.
    ///   - events: The events, in order. An empty list only checks `expected`.
    ///   - timeout: How long the append may take in all, waiting for a lost connection and
    ///     sending again included; nil for no deadline on the server (a lost connection is
    ///     then waited for up to ``Configuration/reconnectWait``).
    /// - Returns: The revisions and positions the events got. After a lost connection the
    ///   append is sent again with the same event ids, so if the first attempt committed,
    ///   these are its revisions and positions and nothing was written twice.
    /// - Throws: ``LogbookError``; a wrong expected revision is `.failedPrecondition` with
    ///   a ``LogbookError/WrongExpectedRevision`` detail holding the actual revision.
    ///   `.unavailable` when the daemon could not be reached in time.
    public func append(
        to stream: String,
        expected: ExpectedRevision = .any,
        events: [EventData],
        timeout: Duration? = nil
    ) async throws -> AppendResult {
        let results = try await self.append(
            [StreamAppend(stream: stream, expected: expected, events: events)],
            timeout: timeout
        )
        guard let result = results.first else {
            throw LogbookError(code: .internalError, message: "the server's append reply holds no stream")
        }
        return result
    }

    /// Appends to several streams at once, atomically: all of them commit or none does,
    /// and every stream's expected revision is checked. A lost connection is ridden out as
    /// for ``append(to:expected:events:timeout:)``.
    ///
    /// - Returns: One result per stream, in the order given.
    ///
    /// The append runs in a producer span of the bootstrapped tracer (swift-distributed-tracing;
    /// a child of the task's current span), and puts that span's context in each event's
    /// metadata: `traceparent` and `tracestate` with OpenTelemetry's W3C propagator. An event
    /// whose metadata already holds one of those keys keeps its own. With no tracer
    /// bootstrapped, the events are sent as they are.
    public func append(_ appends: [StreamAppend], timeout: Duration? = nil) async throws -> [AppendResult] {
        guard AppendTracing.isTracing else {
            return try await self.send(appends, timeout: timeout)
        }
        return try await self.tracedAppend(appends, timeout: timeout)
    }

    private func tracedAppend(_ appends: [StreamAppend], timeout: Duration?) async throws -> [AppendResult] {
        try await AppendTracing.traced(appends, socketPath: self.shared.socketPath) { appends in
            try await self.send(appends, timeout: timeout)
        }
    }

    private func send(_ appends: [StreamAppend], timeout: Duration?) async throws -> [AppendResult] {
        let request = AppendRequest(streams: appends.map(\.wire))
        let reply = try await self.shared.unary(.appendRequest(request), timeout: timeout, kind: .append)
        guard case .appendReply(let appendReply) = reply else {
            throw LogbookError(code: .internalError, message: "the server answered an append with another kind of reply")
        }
        guard appendReply.streams.count == appends.count else {
            throw LogbookError(
                code: .internalError,
                message: "the server's append reply holds \(appendReply.streams.count) streams, not \(appends.count)"
            )
        }
        return appendReply.streams.map {
            AppendResult(wire: $0, commitTimeUnixMicros: appendReply.commitTimeUnixMicros)
        }
    }
}
