/// The part of a read that the log engine's in-memory tail serves: committed events
/// the indexer has not stored in SQLite yet, tested against the read's selector and
/// filter in Swift exactly as `ReadQuery`'s SQL tests them in SQLite.
///
/// Names compare byte for byte, as SQLite compares text.
struct TailScan {
    private enum Match {
        case stream(String, revision: (bound: UInt64, forwards: Bool)?)
        case all
        case category(String)
        case eventType(String)
        case correlationID(String)
    }

    private let match: Match
    private let filter: ReadFilter
    private let range: ClosedRange<UInt64>
    private let forwards: Bool
    private let chunks: [TailChunk]
    private let visibility: ReadVisibility?

    /// `stream` is the stream's name as the log first stored it (for a stream selector).
    init(
        _ request: ReadRequest, range: ClosedRange<UInt64>, stream: String?, chunks: [TailChunk],
        visibility: ReadVisibility? = nil
    ) {
        self.visibility = visibility
        switch request.selector {
        case .stream(let name):
            var revision: (UInt64, Bool)?
            if case .revision(let bound) = request.start { revision = (bound, request.direction == .forwards) }
            match = .stream(stream ?? name, revision: revision)
        case .all: match = .all
        case .category(let name): match = .category(name)
        case .eventType(let name): match = .eventType(name)
        case .correlationID(let id): match = .correlationID(id)
        }
        filter = request.filter ?? ReadFilter()
        self.range = range
        forwards = request.direction == .forwards
        self.chunks = chunks
    }

    /// Appends the matching events in the read's order until `events` holds `limit`.
    func run(into events: inout [RecordedEvent], limit: Int) throws(StorageError) {
        if forwards {
            for chunk in chunks where chunk.lastPosition >= range.lowerBound {
                for event in chunk.events where range.contains(event.position) {
                    guard events.count < limit else { return }
                    if matches(event) { events.append(try Self.recorded(event)) }
                }
            }
        } else {
            for chunk in chunks.reversed() {
                guard let first = chunk.events.first, first.position <= range.upperBound else { continue }
                for event in chunk.events.reversed() where range.contains(event.position) {
                    guard events.count < limit else { return }
                    if matches(event) { events.append(try Self.recorded(event)) }
                }
            }
        }
    }

    private func matches(_ event: StoredEvent) -> Bool {
        switch match {
        case .stream(let name, let revision):
            guard Self.same(event.stream, name) else { return false }
            if let revision {
                guard revision.forwards ? event.revision >= revision.bound : event.revision <= revision.bound else {
                    return false
                }
            }
        case .all:
            break
        case .category(let name):
            guard Self.same(event.category, name) else { return false }
        case .eventType(let name):
            guard Self.same(event.type, name) else { return false }
        case .correlationID(let id):
            guard Self.same(event.correlationID, id) else { return false }
        }
        if let visibility, !visibility.admits(stream: event.stream, revision: event.revision, timeMicros: event.timeMicros) {
            return false
        }
        return filter.admits(type: event.type, stream: event.stream)
    }

    private static func same(_ left: String, _ right: String) -> Bool {
        left.utf8.elementsEqual(right.utf8)
    }

    private static func recorded(_ event: StoredEvent) throws(StorageError) -> RecordedEvent {
        guard let recorded = event.recorded else {
            throw .corrupt("the event at position \(event.position) has metadata that does not decode")
        }
        return recorded
    }
}
