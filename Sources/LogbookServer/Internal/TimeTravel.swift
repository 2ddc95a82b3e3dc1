internal import LogbookStorage
internal import NIOPosix

/// The as-of fields of a ReadRequest or a QueryRequest, read once: `as_of_position` or
/// `as_of_time_unix_micros` (mapped to the last position committed by then), not both,
/// and never past the head, so a reply never claims events that were not there.
enum TimeTravel {
    /// The position the request reads the log as of; nil when it asks for neither (the
    /// caller reads at the head). `request` names the message in errors ("ReadRequest").
    static func position(
        asOfPosition: UInt64, asOfTimeMicros: Int64, request: String, store: any ServedStore, threadPool: NIOThreadPool
    ) async throws -> UInt64? {
        if asOfPosition != 0, asOfTimeMicros != 0 {
            throw CallError.badField("\(request).as_of_time_unix_micros", "give as_of_position or as_of_time, not both")
        }
        let head = store.headPosition
        if asOfPosition != 0 {
            return min(asOfPosition, head)
        }
        if asOfTimeMicros != 0 {
            return min(try await store.position(atOrBeforeTime: asOfTimeMicros, on: threadPool), head)
        }
        return nil
    }
}
