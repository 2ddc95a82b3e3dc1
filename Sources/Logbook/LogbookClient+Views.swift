internal import LogbookWire

/// Managing views (DESIGN §6): the Admin calls about read models.
///
/// ```swift
/// try await client.defineView(ViewDefinition(name: "order_summaries", group: "orders", indexedPaths: ["$.customer"]))
/// ```
extension LogbookClient {
    /// Defines a view written by `definition.group`, with an index on each of its paths.
    /// Defining exactly what exists again succeeds and changes nothing.
    ///
    /// - Throws: ``LogbookError`` `.notFound` when the group does not exist,
    ///   `.alreadyExists` when the name is taken by another definition,
    ///   `.invalidArgument` for a bad name or path.
    public func defineView(_ definition: ViewDefinition, timeout: Duration? = nil) async throws {
        try await self.adminDone(.defineView(definition.wire), call: "define view", timeout: timeout)
    }

    /// Drops a view with its documents.
    ///
    /// - Throws: ``LogbookError`` `.notFound` for no such view.
    public func dropView(_ name: String, timeout: Duration? = nil) async throws {
        try await self.adminDone(.dropView(name), call: "drop view", timeout: timeout)
    }

    /// Every view, by name.
    public func views(timeout: Duration? = nil) async throws -> [ViewDefinition] {
        let reply = try await self.admin(.listViews(Empty()), timeout: timeout)
        guard case .views(let list) = reply else {
            throw Self.unexpected(reply, call: "list views")
        }
        return list.views.map(ViewDefinition.init(wire:))
    }
}
