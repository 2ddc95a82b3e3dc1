/// How much of a commit must reach stable storage before an append is answered.
///
/// The log always runs in WAL mode. `full` fsyncs the WAL on every group commit, so an
/// answered append survives power loss; `normal` syncs only at checkpoints and may lose
/// the last moments of appends on power loss (never on a process crash).
package enum SyncMode: String, Sendable, CaseIterable {
    case full
    case normal

    /// The value for `PRAGMA synchronous`.
    var pragmaValue: String {
        switch self {
        case .full: "FULL"
        case .normal: "NORMAL"
        }
    }
}
