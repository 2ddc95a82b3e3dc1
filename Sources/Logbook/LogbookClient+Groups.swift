internal import LogbookWire
internal import NIOCore

/// Managing persistent subscription groups (DESIGN §5): the Admin calls about groups.
///
/// ```swift
/// try await client.createGroup(GroupSettings(name: "orders-projection", selector: .category("order")))
/// let info = try await client.groupInfo("orders-projection")
/// print(info.checkpoint, info.lag, info.parked)
/// ```
///
/// Every call fails with ``LogbookError``: `.alreadyExists` for a name that is taken,
/// `.notFound` for a group that does not exist, `.invalidArgument` for settings the
/// server does not accept.
extension LogbookClient {
    /// Creates a group. Its checkpoint starts just before `settings.start`.
    ///
    /// - Returns: The new group, with the server's defaults filled in.
    @discardableResult
    public func createGroup(_ settings: GroupSettings, timeout: Duration? = nil) async throws -> GroupInfo {
        let reply = try await self.admin(.createGroup(try settings.wire()), timeout: timeout)
        return try Self.groupInfo(reply, call: "create group")
    }

    /// Replaces the strategy, limits and times of an existing group.
    ///
    /// The group's name, selector, start and filter must be the ones it was created with
    /// (`.invalidArgument` otherwise). Its consumers are disconnected with `.unavailable`
    /// and reconnect to run under the new settings; its checkpoint and parked events stay.
    /// Start from the settings ``groupInfo(_:timeout:)`` returns and change what you need.
    @discardableResult
    public func updateGroup(_ settings: GroupSettings, timeout: Duration? = nil) async throws -> GroupInfo {
        let reply = try await self.admin(.updateGroup(try settings.wire()), timeout: timeout)
        return try Self.groupInfo(reply, call: "update group")
    }

    /// Deletes a group with its checkpoint and its parked events; its consumers are
    /// disconnected with `.notFound`.
    public func deleteGroup(_ name: String, timeout: Duration? = nil) async throws {
        try await self.adminDone(.deleteGroup(name), call: "delete group", timeout: timeout)
    }

    /// Every group of the daemon, by name.
    public func groups(timeout: Duration? = nil) async throws -> [GroupInfo] {
        let reply = try await self.admin(.listGroups(Empty()), timeout: timeout)
        guard case .groups(let list) = reply else {
            throw Self.unexpected(reply, call: "list groups")
        }
        return try list.groups.map { info throws(LogbookError) in try GroupInfo(wire: info) }
    }

    /// One group's settings and progress: checkpoint, lag, consumers, in-flight and parked
    /// counts.
    public func groupInfo(_ name: String, timeout: Duration? = nil) async throws -> GroupInfo {
        let reply = try await self.admin(.groupInfo(name), timeout: timeout)
        return try Self.groupInfo(reply, call: "group info")
    }

    /// Moves a group's checkpoint, backwards or forwards: the group delivers every event
    /// after `position` again (or for the first time), whatever was acked before. Parked
    /// events stay parked. Deliveries consumers hold at the time become stale: their acks
    /// are ignored.
    ///
    /// - Parameters:
    ///   - position: The new checkpoint; nil for the group's start.
    ///   - clearViews: Also empty the views the group writes, in the same transaction, so
    ///     that its consumers rebuild them from the log.
    /// - Returns: The group after the reset.
    @discardableResult
    public func resetGroup(
        _ name: String,
        to position: UInt64? = nil,
        clearViews: Bool = false,
        timeout: Duration? = nil
    ) async throws -> GroupInfo {
        // On the wire 0 stands for the group's start.
        let request = ResetGroup(name: name, toPosition: position ?? 0, clearViews: clearViews)
        let reply = try await self.admin(.resetGroup(request), timeout: timeout)
        return try Self.groupInfo(reply, call: "reset group")
    }

    /// One page of a group's parked events, by position.
    ///
    /// - Parameters:
    ///   - group: The group's name.
    ///   - position: Only events parked at positions after this one; 0 for the first page.
    ///     Pass the last position of a page to get the next.
    ///   - limit: The most events to return; nil for the server's default page (100). The
    ///     server also caps it at its read batch limit. An empty page means there are no more.
    public func parkedEvents(
        in group: String,
        after position: UInt64 = 0,
        limit: Int? = nil,
        timeout: Duration? = nil
    ) async throws -> [ParkedEvent] {
        var wireLimit: UInt32 = 0
        if let limit {
            guard limit > 0 else {
                throw LogbookError(
                    code: .invalidArgument,
                    message: "request not sent: the limit of parked events must be positive, not \(limit)",
                    details: .badField(field: "ListParked.limit", reason: "must be positive")
                )
            }
            wireLimit = UInt32(clamping: limit)
        }
        let request = ListParked(group: group, afterPosition: position, limit: wireLimit)
        let reply = try await self.admin(.listParked(request), timeout: timeout)
        guard case .parked(let list) = reply else {
            throw Self.unexpected(reply, call: "list parked events")
        }
        return try list.events.map { parked throws(LogbookError) in try ParkedEvent(wire: parked) }
    }

    /// Puts a group's parked events back into delivery, in position order; they get new
    /// attempts. The daemon streams them from disk and the call returns once the replay
    /// has started, not once it is done.
    ///
    /// - Returns: The group as the replay starts.
    @discardableResult
    public func replayParked(in group: String, timeout: Duration? = nil) async throws -> GroupInfo {
        let reply = try await self.admin(.replayParked(group), timeout: timeout)
        return try Self.groupInfo(reply, call: "replay parked events")
    }

    // MARK: The Admin call

    /// Sends one Admin request and returns its reply once the server's Status says OK.
    func admin(_ op: AdminRequest.Op, timeout: Duration?) async throws -> AdminReply.Result {
        let body = Frame.Body.adminRequest(AdminRequest(op: op))
        try Self.checkEncodable(body)
        let reply = try await self.shared.unary(body, timeout: timeout, kind: SharedConnection.CallKind(op))
        guard case .adminReply(let adminReply) = reply, let result = adminReply.result else {
            throw LogbookError(code: .internalError, message: "the server answered an Admin request with another kind of reply")
        }
        return result
    }

    /// Sends one Admin request whose reply is Done.
    func adminDone(_ op: AdminRequest.Op, call: String, timeout: Duration?) async throws {
        let reply = try await self.admin(op, timeout: timeout)
        guard case .done = reply else {
            throw Self.unexpected(reply, call: call)
        }
    }

    /// Fails locally for a request protobuf-c cannot carry (a name with a NUL character),
    /// which would otherwise fail in the connection's encoder and break the connection the
    /// other calls share. Admin requests are small, so encoding one twice costs little.
    static func checkEncodable(_ body: Frame.Body) throws(LogbookError) {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        do {
            try Frame(callID: 0, body: body).encode(into: &buffer)
        } catch {
            throw LogbookError(code: .invalidArgument, message: "request not sent: \(error.message)")
        }
    }

    private static func groupInfo(_ reply: AdminReply.Result, call: String) throws(LogbookError) -> GroupInfo {
        guard case .group(let info) = reply else {
            throw Self.unexpected(reply, call: call)
        }
        return try GroupInfo(wire: info)
    }

    static func unexpected(_ reply: AdminReply.Result, call: String) -> LogbookError {
        LogbookError(code: .internalError, message: "the server answered \(call) with \(reply.name)")
    }
}
