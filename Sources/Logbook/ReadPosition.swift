/// Where a read starts.
public struct ReadPosition: Sendable, Hashable {
    package let point: StartPoint

    /// The oldest event.
    public static let start = ReadPosition(point: .start)
    /// The newest event (read backwards from here).
    public static let end = ReadPosition(point: .end)
    /// A revision inside the stream; only for a stream selector.
    public static func revision(_ revision: UInt64) -> ReadPosition { ReadPosition(point: .revision(revision)) }
    /// A position in the whole log: the first (forwards) or last (backwards) to include.
    public static func position(_ position: UInt64) -> ReadPosition { ReadPosition(point: .position(position)) }
}
