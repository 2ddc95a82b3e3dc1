package import LogbookWire
internal import LogbookStorage

/// What the server checks of a request before it touches the store, as one pure function
/// from a frame's body to the Status a bad request ends with (OK when every check passes).
/// The same conversions the calls run (`Conversions`, `GroupConversions`,
/// `ViewConversions`, `ViewQueryPlan`, `ViewValidator`), without a store: the fuzz
/// targets' entry (`Sources/logbook-fuzz-frames`), and a map of where each check lives.
package enum RequestCheck {
    package static func status(of body: Frame.Body, limits: Limits = Limits()) -> Status {
        do {
            try self.check(body, limits: limits)
            return Status(code: .ok)
        } catch {
            return CallError(error).status
        }
    }

    private static func check(_ body: Frame.Body, limits: Limits) throws {
        switch body {
        case .appendRequest(let request):
            _ = try Conversions.streamWrites(request, limits: limits)
        case .readRequest(let request):
            let selector = try Conversions.selector(request.selector, limits: limits)
            _ = try Conversions.readStart(request.from, selector: selector, direction: request.direction == .backwards ? .backwards : .forwards)
        case .subscribeRequest(let request):
            switch request.target {
            case .catchUp(let catchUp):
                let selector = try Conversions.selector(catchUp.selector, limits: limits)
                _ = try Conversions.subscriptionStart(catchUp.from, selector: selector, head: 0)
            case .group(let name):
                try Conversions.checkName(name, field: "SubscribeRequest.group", limits: limits)
            case nil:
                throw CallError.badField("SubscribeRequest.target", "name a selector (catch_up) or a group")
            }
        case .queryRequest(let request):
            if !StreamName.isReserved(request.view) {
                _ = try ViewQueryPlan(ViewConversions.query(request))
            }
        case .adminRequest(let request):
            try self.check(request.op, limits: limits)
        case .ack(let ack):
            let writes = try ack.viewWrites.map { write throws(CallError) in try Conversions.viewWrite(write) }
            try ViewValidator.validateShape(writes)
        default:
            break
        }
    }

    private static func check(_ op: AdminRequest.Op?, limits: Limits) throws {
        switch op {
        case .createGroup(let settings), .updateGroup(let settings):
            _ = try GroupConversions.definition(settings, limits: limits)
        case .defineView(let view):
            try ViewValidator.validate(ViewConversions.definition(view))
        case .dropView(let name):
            try ViewValidator.validateName(name)
        case .deleteGroup(let name), .groupInfo(let name), .replayParked(let name):
            try Conversions.checkName(name, field: "group", limits: limits)
        case .resetGroup(let reset):
            try Conversions.checkName(reset.name, field: "ResetGroup.name", limits: limits)
        case .listParked(let list):
            try Conversions.checkName(list.group, field: "ListParked.group", limits: limits)
        case .deleteStream(let delete):
            try Conversions.checkName(delete.stream, field: "DeleteStream.stream", limits: limits)
        case .setStreamMetadata(let set):
            try Conversions.checkName(set.stream, field: "SetStreamMetadata.stream", limits: limits)
        case .getStreamMetadata(let stream):
            try Conversions.checkName(stream, field: "AdminRequest.get_stream_metadata", limits: limits)
        case .listGroups, .listViews, .metrics:
            break
        case nil:
            throw CallError.badField("AdminRequest.op", "an Admin request names an operation")
        }
    }
}
