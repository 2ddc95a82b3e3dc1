internal import LogbookStorage
internal import LogbookWire

/// Where a call begins, read from a wire `StartFrom`: the one reading, with each call's
/// own rule beside the others.
///
/// | `StartFrom` | ReadStream | Subscribe (catch-up) | a group |
/// | --- | --- | --- | --- |
/// | unset | the start forwards, the end backwards | the start | the start |
/// | start / end | the start / the end | the start / the head now | the start / the end |
/// | position p | from p, inclusive | after p | from p, inclusive |
/// | revision r | from r (a stream only) | after r (a stream only) | refused: a group has no revision |
extension Conversions {
    static func readStart(
        _ from: StartFrom?, selector: LogbookStorage.Selector, direction: ReadDirection
    ) throws(CallError) -> ReadStart {
        switch from?.kind {
        case nil: direction == .forwards ? .start : .end
        case .start: .start
        case .end: .end
        case .position(let position): .position(position)
        case .revision(let revision): .revision(try self.revision(revision, in: selector))
        }
    }

    /// Where a catch-up subscription starts: the position after which events are sent,
    /// and for a stream started at a revision, the first revision to send (its events are
    /// scanned from the start of the log and kept from that revision on).
    static func subscriptionStart(
        _ from: StartFrom?, selector: LogbookStorage.Selector, head: UInt64
    ) throws(CallError) -> (cursor: UInt64, minRevision: UInt64?) {
        switch from?.kind {
        case nil, .start: return (0, nil)
        case .end: return (head, nil)
        case .position(let position): return (position, nil)
        case .revision(let revision):
            let (next, overflow) = try self.revision(revision, in: selector).addingReportingOverflow(1)
            return (0, overflow ? .max : next)
        }
    }

    /// Where a group starts: a place in the log, never a revision.
    static func groupStart(_ from: StartFrom?) throws(CallError) -> GroupStart {
        switch from?.kind {
        case nil, .start: return .start
        case .end: return .end
        case .position(let position): return .position(position)
        case .revision:
            throw CallError.badField("GroupSettings.from", "a group starts at the start, the end or a position of the log")
        }
    }

    /// The rule every revision start shares: a revision is a place in one stream.
    private static func revision(_ revision: UInt64, in selector: LogbookStorage.Selector) throws(CallError) -> UInt64 {
        guard case .stream = selector else {
            throw CallError.badField("StartFrom.revision", "a revision is a place in one stream; use a position for other selectors")
        }
        return revision
    }
}
