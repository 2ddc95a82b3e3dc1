internal import LogbookStorage
internal import LogbookWire
internal import Synchronization

/// The view definitions (DESIGN.md §6), and the Admin calls that change them.
///
/// Definitions change only through this catalog, so it keeps them in memory: a query then
/// finds its view's group without a read.
final class ViewCatalog: Sendable {
    private let store: any ServedStore
    private let definitions: Mutex<[String: LogbookStorage.ViewDefinition]>

    init(store: any ServedStore) throws {
        self.store = store
        self.definitions = Mutex(Dictionary(uniqueKeysWithValues: try store.views().map { ($0.name, $0) }))
    }

    func define(_ view: LogbookWire.ViewDefinition) async throws {
        let definition = ViewConversions.definition(view)
        try await self.store.defineView(definition)
        self.definitions.withLock { $0[definition.name] = definition }
    }

    func drop(_ name: String) async throws {
        try await self.store.dropView(name)
        self.definitions.withLock { $0[name] = nil }
    }

    func list() -> [LogbookWire.ViewDefinition] {
        self.definitions.withLock { Array($0.values) }
            .sorted { $0.name < $1.name }
            .map(ViewConversions.definition)
    }

    /// The views a group writes: a group that has some cannot be deleted.
    func owned(by group: String) -> [String] {
        self.definitions.withLock { $0.values.filter { $0.group == group }.map(\.name) }.sorted()
    }

    func definition(_ name: String) -> LogbookStorage.ViewDefinition? {
        self.definitions.withLock { $0[name] }
    }
}
