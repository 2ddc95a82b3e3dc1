internal import Foundation
internal import LogbookWire

extension RawClient {
    /// Connects and says Hello.
    static func connected(_ daemon: Daemon) throws -> RawClient {
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        return client
    }

    /// Reads every event `selector` selects (from its start, or from `from`), forwards;
    /// with the call's status, so a refused read (DATA_LOSS) is seen with what came before it.
    func readEvents(_ selector: Selector.Kind, from: StartFrom.Kind? = nil, callID: UInt64 = 1) throws -> (events: [RecordedEvent], status: Status) {
        let request = ReadRequest(selector: Selector(kind: selector), from: from.map { StartFrom(kind: $0) })
        let result = try self.call(callID, .readRequest(request))
        let events = result.frames.flatMap { frame -> [RecordedEvent] in
            if case .eventBatch(let batch) = frame.body { return batch.events }
            return []
        }
        return (events, result.status)
    }

    /// Sends one append; its reply when the status is OK.
    func append(_ request: AppendRequest, callID: UInt64 = 1) throws -> (reply: AppendReply?, status: Status) {
        let result = try self.call(callID, .appendRequest(request))
        guard result.status.code == .ok else { return (nil, result.status) }
        guard case .appendReply(let reply) = result.frames.first?.body else { return (nil, result.status) }
        return (reply, result.status)
    }
}

extension Status {
    var summary: String { "\(self.code): \(self.message)" }
}

extension Array where Element == UInt8 {
    var hex: String { self.map { String(format: "%02x", $0) }.joined() }
}
