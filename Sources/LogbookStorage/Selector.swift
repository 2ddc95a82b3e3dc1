/// What a read covers.
package enum Selector: Sendable, Hashable {
    /// One stream, ordered by revision.
    case stream(String)
    /// The whole log (`$all`), ordered by position.
    case all
    /// Every stream whose name starts with `category-` (or is `category`), by position.
    case category(String)
    /// Every event of one type, by position.
    case eventType(String)
    /// Every event with this correlation id, by position.
    case correlationID(String)
}
