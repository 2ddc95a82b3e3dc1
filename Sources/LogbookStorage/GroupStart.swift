/// Where a persistent subscription group begins, as given when it was created.
package enum GroupStart: Sendable, Hashable {
    /// Before the first event: the group delivers the whole log its selector covers.
    case start
    /// After the last event committed when the group is created.
    case end
    /// From this position on, inclusive (as `StartFrom.position` on the wire): the
    /// initial checkpoint is the position before it.
    case position(UInt64)
}
