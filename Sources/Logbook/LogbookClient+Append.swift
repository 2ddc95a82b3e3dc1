internal import LogbookWire

extension LogbookClient {
    /// Appends events to one stream.
    ///
    /// - Parameters:
    ///   - stream: The stream's name.
    ///   - expected: What the stream must look like first; `.any` does not check.
    ///   - events: The events, in order. An empty list only checks `expected`.
    ///   - timeout: How long the server may take; nil for no deadline.
    /// - Returns: The revisions and positions the events got.
    /// - Throws: ``LogbookError``; a wrong expected revision is `.failedPrecondition` with
    ///   a ``LogbookError/WrongExpectedRevision`` detail holding the actual revision.
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
    /// and every stream's expected revision is checked.
    ///
    /// - Returns: One result per stream, in the order given.
    public func append(_ appends: [StreamAppend], timeout: Duration? = nil) async throws -> [AppendResult] {
        let request = AppendRequest(streams: appends.map(\.wire))
        let reply = try await self.connection.unary(.appendRequest(request), timeout: timeout)
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
