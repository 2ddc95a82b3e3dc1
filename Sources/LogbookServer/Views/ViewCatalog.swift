internal import LogbookStorage
internal import LogbookWire
internal import Synchronization

/// The view definitions (DESIGN.md §6), and the Admin calls that change them.
///
/// Definitions change through this catalog, so it keeps them in memory: a query then
/// finds its view's group without a read. On a store other daemons share, they define
/// and drop views too: a view this daemon does not know is looked up in the store before
/// it is called missing, the list is read from the store, and a view the store no longer
/// has is forgotten when a query finds it gone.
final class ViewCatalog: Sendable {
    private let store: any ServedStore
    private let definitions: Mutex<[String: LogbookStorage.ViewDefinition]>

    private init(store: any ServedStore, definitions: [LogbookStorage.ViewDefinition]) {
        self.store = store
        self.definitions = Mutex(Dictionary(definitions.map { ($0.name, $0) }) { first, _ in first })
    }

    /// The catalog of the views the store holds.
    static func load(from store: any ServedStore) async throws -> ViewCatalog {
        ViewCatalog(store: store, definitions: try await store.views())
    }

    func define(_ view: LogbookWire.ViewDefinition) async throws {
        let definition = ViewConversions.definition(view)
        try await self.store.defineView(definition)
        self.definitions.withLock { $0[definition.name] = definition }
    }

    func drop(_ name: String) async throws {
        defer { self.forget(name) }
        try await self.store.dropView(name)
    }

    func list() async throws -> [LogbookWire.ViewDefinition] {
        if self.store.isShared { try await self.reload() }
        return self.definitions.withLock { Array($0.values) }
            .sorted { $0.name < $1.name }
            .map(ViewConversions.definition)
    }

    /// The views a group writes: a group that has some cannot be deleted.
    func owned(by group: String) -> [String] {
        self.definitions.withLock { $0.values.filter { $0.group == group }.map(\.name) }.sorted()
    }

    /// The view's definition as this daemon knows it, without a read.
    func definition(_ name: String) -> LogbookStorage.ViewDefinition? {
        self.definitions.withLock { $0[name] }
    }

    /// The view's definition; on a shared store, one this daemon does not know yet is
    /// looked up in the store.
    func find(_ name: String) async throws -> LogbookStorage.ViewDefinition? {
        if let known = self.definition(name) { return known }
        guard self.store.isShared else { return nil }
        try await self.reload()
        return self.definition(name)
    }

    /// Forgets a view another daemon dropped.
    func forget(_ name: String) {
        self.definitions.withLock { _ = $0.removeValue(forKey: name) }
    }

    private func reload() async throws {
        let stored = try await self.store.views()
        self.definitions.withLock { $0 = Dictionary(stored.map { ($0.name, $0) }) { first, _ in first } }
    }
}
