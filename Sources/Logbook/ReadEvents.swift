#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
internal import LogbookWire
internal import NIOCore

/// The events of a read, as an `AsyncSequence`.
///
/// Iterating starts the call; each iteration is its own call. Stopping early or
/// cancelling the iterating task ends the call on the server.
public struct ReadEvents: AsyncSequence, Sendable {
    public typealias Element = RecordedEvent

    struct Options: Sendable {
        var selector: ReadSelector
        var from: ReadPosition?
        var direction: ReadDirection
        var limit: Int?
        var filter: ReadFilter?
        var asOf: UInt64?
        var asOfTime: Date?
        var timeout: Duration?
    }

    private let client: LogbookClient
    private let options: Options

    init(client: LogbookClient, options: Options) {
        self.client = client
        self.options = options
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(storage: ReadIteratorStorage(client: self.client, options: self.options))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        private let storage: ReadIteratorStorage

        init(storage: ReadIteratorStorage) {
            self.storage = storage
        }

        public mutating func next() async throws -> RecordedEvent? {
            try await self.storage.next()
        }
    }
}

/// The iterator's state: the call, once started, and the batch being handed out.
///
/// Events are turned into public values one at a time in the consumer's task, not on
/// the event loop.
final class ReadIteratorStorage {
    private enum State {
        case idle(LogbookClient, ReadEvents.Options)
        case streaming(LogbookClient, EventStream.Producer.AsyncIterator)
        case finished
    }

    private var state: State
    private var batch: [LogbookWire.RecordedEvent] = []
    private var index = 0

    init(client: LogbookClient, options: ReadEvents.Options) {
        self.state = .idle(client, options)
    }

    func next() async throws -> RecordedEvent? {
        if self.index < self.batch.count {
            return try self.take()
        }
        while true {
            switch self.state {
            case .finished:
                return nil
            case .idle(let client, let options):
                do {
                    let request = try Self.request(options)
                    let iterator = try client.connection.stream(.readRequest(request), timeout: options.timeout)
                    self.state = .streaming(client, iterator)
                } catch {
                    self.state = .finished
                    throw error
                }
            case .streaming(_, let iterator):
                let batch: [LogbookWire.RecordedEvent]?
                do {
                    batch = try await iterator.next()
                } catch {
                    self.state = .finished
                    throw error
                }
                guard let batch else {
                    self.state = .finished
                    return nil
                }
                if !batch.isEmpty {
                    self.batch = batch
                    self.index = 0
                    return try self.take()
                }
            }
        }
    }

    private func take() throws -> RecordedEvent {
        let wire = self.batch[self.index]
        self.index += 1
        if self.index == self.batch.count {
            self.batch = []
            self.index = 0
        }
        do {
            return try RecordedEvent(wire: wire)
        } catch {
            self.state = .finished
            self.batch = []
            throw error
        }
    }

    private static func request(_ options: ReadEvents.Options) throws(LogbookError) -> ReadRequest {
        var maxCount: UInt64 = 0
        if let limit = options.limit {
            guard limit > 0 else {
                throw LogbookError(code: .invalidArgument, message: "a read's limit must be positive, not \(limit)")
            }
            maxCount = UInt64(limit)
        }
        if case .revision? = options.from?.kind, !options.selector.isStream {
            throw LogbookError(
                code: .invalidArgument,
                message: "a read of \(options.selector) starts at a position, not a revision"
            )
        }
        var asOfTimeUnixMicros: Int64 = 0
        if options.asOf == nil, let time = options.asOfTime {
            let micros = (time.timeIntervalSince1970 * 1_000_000).rounded(.down)
            guard micros >= 1, micros < 9.2e18 else {
                throw LogbookError(code: .invalidArgument, message: "a read's as-of time must be after 1970, not \(time)")
            }
            asOfTimeUnixMicros = Int64(micros)
        }
        return ReadRequest(
            selector: options.selector.wire,
            from: options.from?.wire,
            direction: options.direction == .forwards ? .forwards : .backwards,
            maxCount: maxCount,
            filter: options.filter?.wire,
            asOfPosition: options.asOf ?? 0,
            asOfTimeUnixMicros: asOfTimeUnixMicros
        )
    }
}
