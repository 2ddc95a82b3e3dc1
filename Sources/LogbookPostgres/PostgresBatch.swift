internal import Foundation
internal import LogbookStorage

/// One append transaction's decisions, made in memory while the transaction holds the
/// head row: which appends succeed, which are retries of committed ones, which fail,
/// and the rows that go in. The same rules as the embedded writer (`AppendWriter`):
/// each append is decided on its own, so one that fails does not fail the others.
struct PostgresBatch {
    /// A stream as the transaction found it, or as an earlier append of the batch left it.
    struct Stream {
        var name: String
        var revision: UInt64
        var position: UInt64
    }

    /// An event id that is already in the log (or earlier in the batch), and where.
    struct Existing {
        var streamKey: String
        var stream: String
        var revision: UInt64
        var position: UInt64
        var timeMicros: Int64
    }

    /// One row of `logbook_events`.
    struct Row {
        var position: UInt64
        var streamKey: String
        var stream: String
        var revision: UInt64
        var event: PreparedEvent
    }

    enum Outcome {
        case appended(AppendResult)
        /// Every event was already where the append puts them: nothing written.
        case replayed(AppendResult)
        case failed(StorageError)
    }

    private(set) var head: UInt64
    let timeMicros: Int64
    /// By lookup key: every stream the batch names that exists.
    private(set) var streams: [String: Stream]
    /// Every id of the batch that exists, by id.
    private var existing: [EventID: Existing]
    private(set) var rows: [Row] = []
    /// Lookup keys of the streams written.
    private(set) var written: Set<String> = []
    /// By lookup key: the batch's streams that have lifecycle rules, kept at their heads.
    private var lifecycles: [String: StreamLifecycle]

    init(
        head: UInt64, timeMicros: Int64, streams: [String: Stream], existing: [EventID: Existing],
        lifecycles: [String: StreamLifecycle] = [:]
    ) {
        self.head = head
        self.timeMicros = timeMicros
        self.streams = streams
        self.existing = existing
        self.lifecycles = lifecycles
    }

    mutating func apply(_ append: PreparedAppend) -> Outcome {
        for write in append.writes {
            let key = StreamName.lookupKey(write.stream)
            let current = streams[key]?.revision
            if let refusal = StreamLifecycle.refusal(write, head: current, lifecycle: lifecycles[key]) {
                if let replay = replay(append) { return .replayed(replay) }
                return .failed(refusal)
            }
        }
        if let taken = append.writes.lazy.flatMap(\.events).first(where: { existing[$0.id] != nil }) {
            if let replay = replay(append) { return .replayed(replay) }
            let holder = existing[taken.id]!
            return .failed(AppendErrors.conflict(taken.id, (holder.stream, holder.revision)))
        }
        var results = [StreamWriteResult]()
        results.reserveCapacity(append.writes.count)
        for write in append.writes {
            results.append(self.write(write))
        }
        return .appended(AppendResult(streams: results, commitTimeMicros: timeMicros))
    }

    private mutating func write(_ write: PreparedWrite) -> StreamWriteResult {
        let key = StreamName.lookupKey(write.stream)
        let stream = streams[key]
        let name = stream?.name ?? write.stream
        let first = stream.map { $0.revision + 1 } ?? 0
        var positions = [UInt64]()
        positions.reserveCapacity(write.events.count)
        for (offset, event) in write.events.enumerated() {
            head += 1
            let revision = first + UInt64(offset)
            rows.append(Row(position: head, streamKey: key, stream: name, revision: revision, event: event))
            existing[event.id] = Existing(
                streamKey: key, stream: name, revision: revision, position: head, timeMicros: timeMicros)
            positions.append(head)
        }
        written.insert(key)
        let last = first + UInt64(write.events.count) - 1
        streams[key] = Stream(name: name, revision: last, position: head)
        // A later append of the batch sees the stream recreated.
        lifecycles[key]?.catchUp(head: last)
        return StreamWriteResult(stream: write.stream, firstRevision: first, lastRevision: last, positions: positions)
    }

    /// The original result when the append is a retry of one already committed.
    private func replay(_ append: PreparedAppend) -> AppendResult? {
        AppendReplay.result(append) { write, id in
            guard let found = existing[id], found.streamKey == StreamName.lookupKey(write.stream) else { return nil }
            return AppendReplay.Found(revision: found.revision, position: found.position, timeMicros: found.timeMicros)
        }
    }
}
