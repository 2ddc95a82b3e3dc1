internal import LogbookStorage
internal import LogbookWire

/// Views and queries between the wire and the store.
enum ViewConversions {
    static func definition(_ view: LogbookWire.ViewDefinition) -> LogbookStorage.ViewDefinition {
        LogbookStorage.ViewDefinition(name: view.name, group: view.group, indexedPaths: view.indexedPaths)
    }

    static func definition(_ view: LogbookStorage.ViewDefinition) -> LogbookWire.ViewDefinition {
        LogbookWire.ViewDefinition(name: view.name, group: view.group, indexedPaths: view.indexedPaths)
    }

    /// The store's query for a request; a 0 limit is the store's default page.
    static func query(_ request: QueryRequest) -> ViewQuery {
        let keys: ViewKeys
        switch request.keys {
        case .key(let key): keys = .key(key)
        case .keyPrefix(let prefix): keys = .prefix(prefix)
        case nil: keys = .all
        }
        return ViewQuery(
            view: request.view,
            keys: keys,
            predicates: request.predicates.map { predicate in
                ViewPredicate(path: predicate.path, op: self.predicateOperator(predicate.op), values: predicate.values)
            },
            orderBy: request.orderBy.isEmpty ? nil : request.orderBy,
            descending: request.descending,
            limit: request.limit == 0 ? StorageLimits.queryRowsDefault : Int(request.limit),
            cursor: request.cursor.isEmpty ? nil : request.cursor
        )
    }

    static func reply(_ page: ViewPage, asOf: UInt64) -> QueryReply {
        QueryReply(rows: page.rows.map { Row(key: $0.key, json: $0.json) }, asOfPosition: asOf, nextCursor: page.nextCursor ?? [])
    }

    private static func predicateOperator(_ op: PredicateOp) -> ViewPredicate.Operator {
        switch op {
        case .eq: .equal
        case .ne: .notEqual
        case .lt: .less
        case .le: .lessOrEqual
        case .gt: .greater
        case .ge: .greaterOrEqual
        case .prefix: .prefix
        case .in: .in
        }
    }
}
