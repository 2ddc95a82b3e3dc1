/// Where a read starts.
public struct ReadPosition: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case start
        case end
        case revision(UInt64)
        case position(UInt64)
    }

    let kind: Kind

    init(_ kind: Kind) {
        self.kind = kind
    }

    /// The oldest event.
    public static let start = ReadPosition(.start)
    /// The newest event (read backwards from here).
    public static let end = ReadPosition(.end)
    /// A revision inside the stream; only for a stream selector.
    public static func revision(_ revision: UInt64) -> ReadPosition { ReadPosition(.revision(revision)) }
    /// A position in the whole log: the first (forwards) or last (backwards) to include.
    public static func position(_ position: UInt64) -> ReadPosition { ReadPosition(.position(position)) }
}
