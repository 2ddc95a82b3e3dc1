internal import LogbookStorage
internal import LogbookWire

/// What a call needs to be let in: a permission on each resource it touches, read off
/// its request before anything runs, so that a denied call writes nothing and reveals
/// nothing (not even whether its stream exists).
enum AccessNeeds {
    typealias Need = (permission: AccessRules.Permissions, resource: Resource)

    /// The needs of the request that starts a call; none for frames that start none.
    static func of(_ body: Frame.Body) -> [Need] {
        switch body {
        case .appendRequest(let request):
            return request.streams.map { (.append, .stream($0.stream)) }
        case .readRequest(let request):
            return [(.read, Self.resource(request.selector, request.filter))]
        case .subscribeRequest(let request):
            switch request.target {
            case .catchUp(let catchUp): return [(.read, Self.resource(catchUp.selector, catchUp.filter))]
            case .group(let name): return [(.consume, .group(name))]
            case nil: return []
            }
        case .queryRequest(let request):
            return [Self.query(request.view)]
        case .adminRequest(let request):
            return Self.admin(request.op)
        case .backupRequest:
            // A backup is every stream, group and view.
            return [(.admin, .server)]
        default:
            return []
        }
    }

    /// What a selector reads. A stream-prefix filter narrows `$all` and the reads by type
    /// or correlation to the streams it names; a category is its own resource.
    static func resource(_ selector: LogbookWire.Selector?, _ filter: LogbookWire.Filter?) -> Resource {
        let prefix = filter?.streamPrefix ?? ""
        switch selector?.kind {
        case .stream(let name):
            // `$all` by name, or another reserved name: the whole log.
            return StreamName.isReserved(name) ? .streams(prefix: prefix) : .stream(name)
        case .category(let name):
            return .category(name)
        case .all, .eventType, .correlationID, nil:
            return .streams(prefix: prefix)
        }
    }

    /// System views show every stream (`$streams`, `$event_types`), every group
    /// (`$groups`) or the server (`$stats`).
    private static func query(_ view: String) -> Need {
        switch view {
        case SystemViews.streams, SystemViews.eventTypes: (.read, .streams(prefix: ""))
        case SystemViewRows.groups: (.admin, .allGroups)
        case _ where StreamName.isReserved(view): (.admin, .server)
        default: (.read, .view(view))
        }
    }

    private static func admin(_ op: AdminRequest.Op?) -> [Need] {
        switch op {
        case .createGroup(let settings), .updateGroup(let settings):
            // A group reads its selector for whoever consumes it: making one needs read on
            // what it reads, or admin on a group would be read on everything.
            return [(.admin, .group(settings.name)), (.read, Self.resource(settings.selector, settings.filter))]
        case .deleteGroup(let name), .groupInfo(let name), .replayParked(let name):
            return [(.admin, .group(name))]
        case .resetGroup(let reset):
            return [(.admin, .group(reset.name))]
        case .listParked(let list):
            return [(.admin, .group(list.group))]
        case .listGroups:
            return [(.admin, .someGroup)]
        case .defineView(let view):
            return [(.admin, .view(view.name))]
        case .dropView(let name):
            return [(.admin, .view(name))]
        case .listViews:
            return [(.admin, .someView)]
        case .deleteStream(let delete):
            return [(.admin, .stream(delete.stream))]
        case .setStreamMetadata(let set):
            return [(.admin, .stream(set.stream))]
        case .getStreamMetadata(let stream):
            // What it answers (whether the stream exists, its last revision) is what a read reveals.
            return [(.read, .stream(stream))]
        case .metrics:
            // The metrics name every group and view, and count everything.
            return [(.admin, .server)]
        case nil:
            return []
        }
    }
}
