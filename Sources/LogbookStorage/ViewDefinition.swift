/// A read model the daemon hosts (DESIGN.md §6): JSON documents by key, written only by
/// the acks of one persistent group, with SQLite indexes on the JSON paths it names.
package struct ViewDefinition: Sendable, Hashable {
    package var name: String
    /// The group whose acks write this view; no other group may.
    package var group: String
    /// JSON paths such as `$.customer.id` or `$.lines[0].sku`, each backed by an index.
    package var indexedPaths: [String]

    package init(name: String, group: String, indexedPaths: [String] = []) {
        self.name = name
        self.group = group
        self.indexedPaths = indexedPaths
    }
}
