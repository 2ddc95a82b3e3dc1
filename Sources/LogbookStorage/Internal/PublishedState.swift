internal import Synchronization

/// A stream's id and last revision, as of the last commit.
struct StreamHead: Sendable, Hashable {
    var id: Int64
    var revision: UInt64
}

/// What readers may see: the last committed position, stream heads, and how far the
/// read indexes reach.
///
/// The writer changes these only after a commit succeeded, in one step, so a reader
/// never sees a position (or a head) whose commit could still fail, and never sees
/// position p + 1 before p. `indexedUpTo` never passes `headPosition`: a read takes
/// both in one snapshot and covers (indexedUpTo, head] by scanning `events`.
final class PublishedState: Sendable {
    private struct State {
        var headPosition: UInt64
        var indexedUpTo: UInt64
        var heads: [String: StreamHead]
        var observers: [Int: AsyncStream<UInt64>.Continuation] = [:]
        var nextObserverID = 0
        var isFinished = false
    }

    private let state: Mutex<State>

    init(headPosition: UInt64, indexedUpTo: UInt64, heads: [String: StreamHead]) {
        state = Mutex(State(headPosition: headPosition, indexedUpTo: indexedUpTo, heads: heads))
    }

    var indexedUpTo: UInt64 {
        state.withLock { $0.indexedUpTo }
    }

    var headPosition: UInt64 {
        state.withLock { $0.headPosition }
    }

    func head(of stream: String) -> StreamHead? {
        state.withLock { $0.heads[stream] }
    }

    /// The head position, the indexed position and, when asked, one stream's head,
    /// read together.
    func snapshot(stream: String?) -> (headPosition: UInt64, indexedUpTo: UInt64, stream: StreamHead?) {
        state.withLock { state in
            (state.headPosition, state.indexedUpTo, stream.flatMap { state.heads[$0] })
        }
    }

    /// Called once an index batch committed: reads may use the index tables up to here.
    func publishIndexed(upTo position: UInt64) {
        state.withLock { $0.indexedUpTo = position }
    }

    func publish(headPosition: UInt64, heads: some Sequence<(String, StreamHead)>) {
        state.withLock { state in
            for (stream, head) in heads {
                state.heads[stream] = head
            }
            guard headPosition != state.headPosition else { return }
            state.headPosition = headPosition
            // Yielded under the lock so every observer sees heads in commit order.
            for observer in state.observers.values {
                observer.yield(headPosition)
            }
        }
    }

    /// The head position now and after every commit. Only the newest value is kept
    /// for a slow consumer, which then reads the events it missed from storage.
    func headPositions() -> AsyncStream<UInt64> {
        let (stream, continuation) = AsyncStream.makeStream(of: UInt64.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state -> Int? in
            guard !state.isFinished else { return nil }
            let id = state.nextObserverID
            state.nextObserverID += 1
            state.observers[id] = continuation
            continuation.yield(state.headPosition)
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.observers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends every head-position stream (the store is closing).
    func finishObservers() {
        let observers = state.withLock { state in
            state.isFinished = true
            defer { state.observers.removeAll() }
            return Array(state.observers.values)
        }
        for observer in observers {
            observer.finish()
        }
    }
}
