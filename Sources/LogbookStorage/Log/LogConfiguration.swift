/// How the segment log writes: segment size, sync mode and the sync reach.
///
/// These apply to the segments the log creates; each segment keeps the size and reach it
/// was written with in its header, so a log opened with another configuration still
/// recovers its existing segments by their own rules.
struct LogConfiguration: Sendable, Hashable {
    /// Bytes of each new segment file, the header page included.
    var segmentBytes: Int64
    /// The most bytes the writer leaves unsynced (see `LogLimits.syncReachBytesDefault`).
    /// A batch larger than this is refused.
    var syncReachBytes: Int64
    var syncMode: SyncMode

    /// Checks the values against `LogLimits`; `syncReachBytes` defaults to the limit's
    /// default, capped by what a segment holds.
    init(
        segmentBytes: Int64 = LogLimits.segmentBytesDefault,
        syncReachBytes: Int64? = nil,
        syncMode: SyncMode = .full
    ) throws(StorageError) {
        guard (LogLimits.segmentBytesMin...LogLimits.segmentBytesMax).contains(segmentBytes),
            segmentBytes % Int64(LogLimits.recordAlignment) == 0
        else {
            throw .invalidArgument(
                "a log segment must be \(LogLimits.segmentBytesMin)...\(LogLimits.segmentBytesMax) bytes, a multiple of \(LogLimits.recordAlignment); got \(segmentBytes)"
            )
        }
        let capacity = segmentBytes - Int64(LogLimits.segmentHeaderBytes)
        let reach = syncReachBytes ?? min(LogLimits.syncReachBytesDefault, capacity)
        guard reach >= LogLimits.syncReachBytesMin, reach <= min(capacity, Int64(LogLimits.recordBytesMax)) else {
            throw .invalidArgument(
                "the log's sync reach must be \(LogLimits.syncReachBytesMin) bytes up to a segment's capacity (\(capacity)); got \(reach)"
            )
        }
        self.segmentBytes = segmentBytes
        self.syncReachBytes = reach
        self.syncMode = syncMode
    }
}
