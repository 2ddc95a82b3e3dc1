internal import LogbookWire

/// Querying views and system views (DESIGN §6).
///
/// ```swift
/// // One page:
/// let page = try await client.query(ViewQuery("order_summaries", keys: .key("c-7")))
/// // Every row, following cursors:
/// for try await row in client.rows(ViewQuery("order_summaries", orderBy: "$.total")) {
///     print(row.key, row.json)
/// }
/// // Read your own write:
/// let result = try await client.append(to: "order-42", events: [placed])
/// let fresh = try await client.query(ViewQuery("order_summaries", consistentWith: result))
/// ```
///
/// Every call fails with ``LogbookError``: `.notFound` for a view that does not exist,
/// `.invalidArgument` for a malformed path, literal or cursor, `.deadlineExceeded` when
/// the view did not reach `minPosition` within the query's wait.
extension LogbookClient {
    /// One page of a query.
    ///
    /// - Parameters:
    ///   - query: What to ask.
    ///   - cursor: The `nextCursor` of the page before; nil for the first page.
    ///   - timeout: How long the server may take in all; nil for no deadline (a query
    ///     with `minPosition` still ends after its wait).
    public func query(_ query: ViewQuery, cursor: QueryCursor? = nil, timeout: Duration? = nil) async throws -> QueryPage {
        let body = Frame.Body.queryRequest(try query.wire(cursor: cursor))
        try Self.checkEncodable(body)
        let reply = try await self.shared.unary(body, timeout: timeout, kind: .query)
        guard case .queryReply(let queryReply) = reply else {
            throw LogbookError(code: .internalError, message: "the server answered a query with another kind of reply")
        }
        return QueryPage(wire: queryReply)
    }

    /// One page of a query; the arguments are those of ``ViewQuery``.
    public func query(
        _ view: String,
        keys: ViewQuery.Keys = .all,
        where predicates: [QueryPredicate] = [],
        orderBy: String? = nil,
        descending: Bool = false,
        limit: Int? = nil,
        cursor: QueryCursor? = nil,
        consistentWith append: AppendResult? = nil,
        minPosition: UInt64? = nil,
        wait: Duration? = nil,
        asOf: ViewQuery.AsOf? = nil,
        timeout: Duration? = nil
    ) async throws -> QueryPage {
        let query = ViewQuery(
            view, keys: keys, where: predicates, orderBy: orderBy, descending: descending, limit: limit,
            consistentWith: append, minPosition: minPosition, wait: wait, asOf: asOf
        )
        return try await self.query(query, cursor: cursor, timeout: timeout)
    }

    /// Every page of a query, following cursors: the query's `limit` is the page size.
    /// Each page is its own call, made when the sequence asks for it.
    public func pages(_ query: ViewQuery, timeout: Duration? = nil) -> QueryPages {
        QueryPages(client: self, query: query, timeout: timeout)
    }

    /// Every row of a query, following cursors page by page: each row once, in the
    /// query's order (rows written while the pages are read may or may not appear).
    public func rows(_ query: ViewQuery, timeout: Duration? = nil) -> QueryRows {
        QueryRows(pages: self.pages(query, timeout: timeout))
    }
}

/// The pages of a query, as an `AsyncSequence`; see ``LogbookClient/pages(_:timeout:)``.
public struct QueryPages: AsyncSequence, Sendable {
    public typealias Element = QueryPage

    let client: LogbookClient
    let query: ViewQuery
    let timeout: Duration?

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(client: self.client, query: self.query, timeout: self.timeout)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let client: LogbookClient
        let query: ViewQuery
        let timeout: Duration?
        private var cursor: QueryCursor?
        private var finished = false

        init(client: LogbookClient, query: ViewQuery, timeout: Duration?) {
            self.client = client
            self.query = query
            self.timeout = timeout
        }

        public mutating func next() async throws -> QueryPage? {
            guard !self.finished else { return nil }
            do {
                let page = try await self.client.query(self.query, cursor: self.cursor, timeout: self.timeout)
                self.cursor = page.nextCursor
                self.finished = page.nextCursor == nil
                return page
            } catch {
                self.finished = true
                throw error
            }
        }
    }
}

/// The rows of a query across its pages, as an `AsyncSequence`; see
/// ``LogbookClient/rows(_:timeout:)``.
public struct QueryRows: AsyncSequence, Sendable {
    public typealias Element = QueryRow

    let pages: QueryPages

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(pages: self.pages.makeAsyncIterator())
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        private var pages: QueryPages.AsyncIterator
        private var rows: [QueryRow] = []
        private var index = 0

        init(pages: QueryPages.AsyncIterator) {
            self.pages = pages
        }

        public mutating func next() async throws -> QueryRow? {
            while self.index == self.rows.count {
                guard let page = try await self.pages.next() else { return nil }
                self.rows = page.rows
                self.index = 0
            }
            defer { self.index += 1 }
            return self.rows[self.index]
        }
    }
}
