/// A view (a read model the daemon hosts, DESIGN §6): JSON documents by key, written only
/// by the acks of one persistent group, with an index on each JSON path it names.
public struct ViewDefinition: Sendable, Hashable {
    /// The view's name; names starting with `$` are the system views'.
    public var name: String
    /// The group whose consumers write the view (through ``ViewWrite``s in their acks).
    public var group: String
    /// JSON paths such as `$.customer` that queries filter or order by; each gets an index.
    public var indexedPaths: [String]

    public init(name: String, group: String, indexedPaths: [String] = []) {
        self.name = name
        self.group = group
        self.indexedPaths = indexedPaths
    }
}
