internal import LogbookWire

extension CallRunner {
    /// An Admin request: one operation on the groups or the views, answered with one
    /// AdminReply.
    func admin(_ request: AdminRequest) async throws -> Status {
        let groups = self.context.groups
        let views = self.context.views
        let reply: AdminReply.Result
        switch request.op {
        case .createGroup(let settings):
            reply = .group(try await groups.create(settings))
        case .updateGroup(let settings):
            reply = .group(try await groups.update(settings))
        case .deleteGroup(let name):
            let owned = views.owned(by: name)
            guard owned.isEmpty else {
                throw CallError(.failedPrecondition, "the group \(name) writes the views \(owned.joined(separator: ", ")); drop them first")
            }
            try await groups.delete(name)
            reply = .done(Empty())
        case .listGroups:
            // Under `--acl`, the groups the caller has admin on.
            let listed = try await groups.list().filter { self.caller?.allows(.admin, on: .group($0.settings?.name ?? "")) ?? true }
            reply = .groups(GroupList(groups: listed))
        case .groupInfo(let name):
            reply = .group(try await groups.info(name))
        case .resetGroup(let reset):
            try await groups.reset(reset.name, to: reset.toPosition == 0 ? nil : reset.toPosition, clearViews: reset.clearViews)
            reply = .group(try await groups.info(reset.name))
        case .listParked(let list):
            let limits = self.context.limits
            let limit = list.limit == 0 ? limits.parkedListDefault : min(Int(list.limit), limits.readBatchEventsMax)
            reply = .parked(ParkedList(events: try await groups.parked(list.group, after: list.afterPosition, limit: limit)))
        case .replayParked(let name):
            try await groups.replayParked(name)
            reply = .group(try await groups.info(name))
        case .defineView(let view):
            try await views.define(view)
            reply = .done(Empty())
        case .dropView(let name):
            try await views.drop(name)
            reply = .done(Empty())
        case .listViews:
            let listed = try await views.list().filter { self.caller?.allows(.admin, on: .view($0.name)) ?? true }
            reply = .views(ViewList(views: listed))
        case .metrics:
            let context = self.context
            reply = .metrics(
                await context.metrics.exposition(store: context.store, groups: groups, views: views, stats: context.stats))
        case .deleteStream(let delete):
            let lifecycle = try await self.context.store.deleteStream(
                delete.stream, expected: Conversions.expected(delete.expected), hard: delete.hard)
            reply = .streamInfo(Conversions.streamInfo(delete.stream, lifecycle))
        case .setStreamMetadata(let set):
            let bounds = try Conversions.bounds(set.metadata)
            reply = .streamInfo(Conversions.streamInfo(set.stream, try await self.context.store.setStreamBounds(set.stream, bounds)))
        case .getStreamMetadata(let stream):
            let lifecycle = try await self.context.store.streamLifecycle(stream, on: self.context.threadPool)
            reply = .streamInfo(Conversions.streamInfo(stream, lifecycle))
        case nil:
            throw CallError.badField("AdminRequest.op", "an Admin request names an operation")
        }
        try await self.write(.adminReply(AdminReply(result: reply)))
        return Status(code: .ok)
    }
}
