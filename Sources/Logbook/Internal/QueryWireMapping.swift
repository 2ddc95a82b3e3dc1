package import LogbookWire

// The mapping between the query and view types and the wire's; the public types shadow
// the wire types of the same name, so the wire's are spelled `LogbookWire.…` here.

extension ViewQuery {
    /// The most rows a page may ask for (the server's limit).
    package static var limitMax: Int { QueryDefaults.rowsMax }

    /// The request for the page after `cursor`; fails locally for what the server would
    /// refuse anyway, so that the message says which argument is wrong.
    package func wire(cursor: QueryCursor?) throws(LogbookError) -> QueryRequest {
        var request = QueryRequest(view: self.view)
        switch self.keys.kind {
        case .all: break
        case .key(let key): request.keys = .key(key)
        case .prefix(let prefix): request.keys = .keyPrefix(prefix)
        }
        request.predicates = try self.predicates.map { predicate throws(LogbookError) in try predicate.wire }
        request.orderBy = self.orderBy ?? ""
        request.descending = self.descending
        if let limit = self.limit {
            guard (1...Self.limitMax).contains(limit) else {
                throw LogbookError(
                    code: .invalidArgument,
                    message: "request not sent: a query's limit must be 1…\(Self.limitMax), not \(limit)",
                    details: .badField(field: "QueryRequest.limit", reason: "must be 1…\(Self.limitMax)")
                )
            }
            request.limit = UInt32(limit)
        }
        request.cursor = cursor?.bytes ?? []
        if let minPosition = self.minPosition, minPosition > 0 {
            request.minPosition = minPosition
            request.waitMs = UInt32(clamping: (self.wait ?? Self.defaultWait).roundedUpMilliseconds)
        }
        switch self.asOf?.kind {
        case .position(let position)?:
            request.asOfPosition = position
        case .time(let time)?:
            guard let micros = time.unixMicrosAfterEpoch else {
                throw LogbookError(code: .invalidArgument, message: "request not sent: \(time) is not a time after 1970")
            }
            request.asOfTimeUnixMicros = micros
        case nil:
            break
        }
        return request
    }
}

extension QueryPredicate {
    var wire: LogbookWire.Predicate {
        get throws(LogbookError) {
            let count = self.values.count
            guard self.op == .in ? count >= 1 : count == 1 else {
                throw LogbookError(
                    code: .invalidArgument,
                    message: "request not sent: the predicate on \(self.path) with \(self.op) takes "
                        + (self.op == .in ? "one or more values" : "one value") + ", not \(count)"
                )
            }
            let op: PredicateOp =
                switch self.op.kind {
                case .equal: .eq
                case .notEqual: .ne
                case .less: .lt
                case .lessOrEqual: .le
                case .greater: .gt
                case .greaterOrEqual: .ge
                case .prefix: .prefix
                case .in: .in
                }
            return LogbookWire.Predicate(path: self.path, op: op, values: self.values.map(\.json))
        }
    }
}

extension QueryPage {
    init(wire: QueryReply) {
        self.init(
            rows: wire.rows.map { QueryRow(key: $0.key, json: $0.json) },
            asOfPosition: wire.asOfPosition,
            nextCursor: wire.nextCursor.isEmpty ? nil : QueryCursor(bytes: wire.nextCursor)
        )
    }
}

extension ViewWrite {
    var wire: LogbookWire.ViewWrite {
        let op: LogbookWire.ViewWrite.Op =
            switch self.operation {
            case .put(let json): .put(json)
            case .merge(let patch): .merge(patch)
            case .remove: .remove(true)
            }
        return LogbookWire.ViewWrite(view: self.view, key: self.key, op: op)
    }
}

extension ViewDefinition {
    var wire: LogbookWire.ViewDefinition {
        LogbookWire.ViewDefinition(name: self.name, group: self.group, indexedPaths: self.indexedPaths)
    }

    init(wire: LogbookWire.ViewDefinition) {
        self.init(name: wire.name, group: wire.group, indexedPaths: wire.indexedPaths)
    }
}
