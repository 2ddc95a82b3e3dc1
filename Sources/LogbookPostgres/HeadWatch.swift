internal import Foundation
internal import Synchronization

/// The newest head position this daemon knows, and who waits for it to move.
///
/// It moves on this daemon's own commits, at once, and on the others' through the
/// `logbook_head` notification. It only ever grows: a late notification of an older
/// head changes nothing.
final class HeadWatch: Sendable {
    private struct State {
        var head: UInt64
        var streams: [UUID: AsyncStream<UInt64>.Continuation] = [:]
        var listeners: [@Sendable (UInt64) -> Void] = []
        var isFinished = false
    }

    private let state: Mutex<State>

    init(_ head: UInt64) {
        state = Mutex(State(head: head))
    }

    var head: UInt64 { state.withLock { $0.head } }

    /// Raises the head to `position` when that is higher, and tells everyone waiting.
    func publish(_ position: UInt64) {
        let (streams, listeners) = state.withLock { state -> ([AsyncStream<UInt64>.Continuation], [@Sendable (UInt64) -> Void]) in
            guard position > state.head, !state.isFinished else { return ([], []) }
            state.head = position
            return (Array(state.streams.values), state.listeners)
        }
        for stream in streams { stream.yield(position) }
        for listener in listeners { listener(position) }
    }

    /// The head now, then each time it moves (only the newest when a reader lags).
    func positions() -> AsyncStream<UInt64> {
        let (stream, continuation) = AsyncStream.makeStream(of: UInt64.self, bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        let head = state.withLock { state -> UInt64? in
            guard !state.isFinished else { return nil }
            state.streams[id] = continuation
            return state.head
        }
        guard let head else {
            continuation.finish()
            return stream
        }
        continuation.yield(head)
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.streams.removeValue(forKey: id) }
        }
        return stream
    }

    /// Calls `listener` with the head now and after every move; it must not block.
    func onHead(_ listener: @escaping @Sendable (UInt64) -> Void) {
        let head = state.withLock { state in
            state.listeners.append(listener)
            return state.head
        }
        listener(head)
    }

    /// Ends every stream of positions.
    func finish() {
        let streams = state.withLock { state in
            state.isFinished = true
            defer { state.streams.removeAll() }
            return Array(state.streams.values)
        }
        for stream in streams { stream.finish() }
    }
}
