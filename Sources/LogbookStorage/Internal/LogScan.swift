/// Log engine: the part of a `$all` read that the log holds, read from the log in order.
///
/// `$all`'s positions are contiguous, so no index needs to name them: the SQL that did
/// (and each row's check against its record) took about a seventh of the daemon's CPU when
/// reading `$all`. A filter is tested on each event, as SQLite's scan of `events` tested it.
struct LogScan {
    let range: ClosedRange<UInt64>
    let forwards: Bool
    let filter: ReadFilter
    let visibility: ReadVisibility?

    init(_ request: ReadRequest, range: ClosedRange<UInt64>, visibility: ReadVisibility? = nil) {
        self.visibility = visibility
        self.range = range
        forwards = request.direction == .forwards
        filter = request.filter ?? ReadFilter()
    }

    /// Appends the events that pass the filter, in the read's order, until `events` holds `limit`.
    func run(into events: inout [RecordedEvent], limit: Int, log: SegmentLog) throws(StorageError) {
        var next = forwards ? range.lowerBound : range.upperBound
        while events.count < limit, range.contains(next) {
            // Unfiltered, each record read is an event returned; filtered, read a little
            // ahead, so a filter that passes few events does not read one record per call.
            let filters = !filter.isEmpty || visibility != nil
            let wanted = max(limit - events.count, filters ? StorageLimits.logScanFilteredRecordsMin : 1)
            let records = try log.read(
                from: next, direction: forwards ? .forwards : .backwards, countMax: wanted,
                bytesMax: StorageLimits.logScanBytesMax)
            guard !records.isEmpty else {
                throw .corrupt("the log does not hold position \(next), at or below what it has stored")
            }
            for record in records {
                guard range.contains(next), events.count < limit else { return }
                let event = try record.event(at: next)
                if filter.admits(type: event.type, stream: event.stream),
                    visibility?.admits(stream: event.stream, revision: event.revision, timeMicros: event.timeMicros) ?? true
                {
                    events.append(event)
                }
                next = forwards ? next + 1 : next - 1
            }
        }
    }
}
