/// Where a read starts.
///
/// `.start` lies before the first event and `.end` after the last one: forwards from
/// `.start` and backwards from `.end` cover everything, forwards from `.end` and
/// backwards from `.start` cover nothing. `.revision` and `.position` are inclusive:
/// the first event to return (forwards) or the last (backwards).
package enum ReadStart: Sendable, Hashable {
    case start
    case end
    /// Only valid for `Selector.stream`.
    case revision(UInt64)
    case position(UInt64)
}
