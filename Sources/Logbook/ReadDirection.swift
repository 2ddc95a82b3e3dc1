/// The order in which a read returns events.
public enum ReadDirection: Sendable, Hashable {
    /// Oldest first.
    case forwards
    /// Newest first.
    case backwards
}
