internal import LogbookWire

extension LogbookClient {
    // MARK: Stream lifecycle

    /// Deletes a stream if `expected` holds.
    ///
    /// A soft delete hides its events: reads answer `.notFound`, and `$all`, categories
    /// and groups skip them. An append with `.noStream` or `.any` recreates it, its
    /// revisions going on after the deleted ones. With `hard` the stream is tombstoned:
    /// it can never be written again.
    @discardableResult
    public func deleteStream(
        _ stream: String, expected: ExpectedRevision = .any, hard: Bool = false, timeout: Duration? = nil
    ) async throws -> StreamInfo {
        let reply = try await self.admin(
            .deleteStream(DeleteStream(stream: stream, expected: expected.wire, hard: hard)), timeout: timeout)
        return try Self.streamInfo(reply, call: "delete stream")
    }

    /// Sets a stream's bounds, replacing the ones it had; events past them are hidden at once.
    @discardableResult
    public func setStreamMetadata(_ stream: String, _ metadata: StreamMetadata, timeout: Duration? = nil) async throws -> StreamInfo {
        let reply = try await self.admin(
            .setStreamMetadata(SetStreamMetadata(stream: stream, metadata: try metadata.wire())), timeout: timeout)
        return try Self.streamInfo(reply, call: "set stream metadata")
    }

    /// A stream's last revision, bounds and delete state.
    public func streamInfo(_ stream: String, timeout: Duration? = nil) async throws -> StreamInfo {
        let reply = try await self.admin(.getStreamMetadata(stream), timeout: timeout)
        return try Self.streamInfo(reply, call: "get stream metadata")
    }

    private static func streamInfo(_ reply: AdminReply.Result, call: String) throws -> StreamInfo {
        guard case .streamInfo(let info) = reply else { throw Self.unexpected(reply, call: call) }
        let metadata = info.metadata ?? LogbookWire.StreamMetadata()
        return StreamInfo(
            stream: info.stream,
            lastRevision: info.exists ? info.lastRevision : nil,
            metadata: StreamMetadata(
                maxCount: metadata.maxCount == 0 ? nil : metadata.maxCount,
                maxAge: metadata.maxAgeSeconds == 0 ? nil : .seconds(Int64(clamping: metadata.maxAgeSeconds)),
                truncateBefore: metadata.truncateBefore == 0 ? nil : metadata.truncateBefore),
            isDeleted: info.deleted,
            isTombstoned: info.tombstoned)
    }
}

extension StreamMetadata {
    func wire() throws(LogbookError) -> LogbookWire.StreamMetadata {
        var seconds: UInt64 = 0
        if let maxAge {
            guard maxAge >= .seconds(1) else {
                throw LogbookError(code: .invalidArgument, message: "a stream's max age is at least one second, not \(maxAge)")
            }
            seconds = UInt64(maxAge.components.seconds)
        }
        if maxCount == 0 {
            throw LogbookError(code: .invalidArgument, message: "a stream's max count must be positive (nil for no bound)")
        }
        return LogbookWire.StreamMetadata(maxCount: maxCount ?? 0, maxAgeSeconds: seconds, truncateBefore: truncateBefore ?? 0)
    }
}
