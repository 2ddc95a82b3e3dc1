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
/// the event loop. A read started while the client's connection is down waits for the
/// next one (up to its timeout, else the client's reconnect wait); a read whose connection
/// is lost mid-way fails with `.unavailable` and ``LogbookError/isSafeToRetry``.
///
/// The read has its own flow control (``ReadCredit``): the server sends what the consumer
/// has made room for, so a consumer that stops iterating holds back only this read, never
/// the other calls on the client's connection.
final class ReadIteratorStorage {
    private struct Call {
        let lease: SharedConnection.Lease
        let id: UInt64
        var batches: EventStream.Producer.AsyncIterator
        var credit: ReadCredit
    }

    private enum State {
        case idle(LogbookClient, ReadEvents.Options)
        case streaming(LogbookClient, ReadEvents.Options, Call)
        case finished
    }

    private var state: State
    private var events = Buffered<LogbookWire.RecordedEvent>()
    /// Until when the read may wait for a connection; set when it first needs one.
    private var deadline: ContinuousClock.Instant?

    init(client: LogbookClient, options: ReadEvents.Options) {
        self.state = .idle(client, options)
    }

    func next() async throws -> RecordedEvent? {
        while true {
            do {
                if let event = try self.events.take(RecordedEvent.init(wire:)) {
                    return event
                }
            } catch {
                self.state = .finished
                throw error
            }
            switch self.state {
            case .finished:
                return nil
            case .idle(let client, let options):
                do {
                    let credit = ReadCredit()
                    var request = try Self.request(options)
                    request.initialCredit = credit.initial
                    let deadline = self.deadline ?? ContinuousClock.now + (options.timeout ?? client.configuration.reconnectWait)
                    self.deadline = deadline
                    let (lease, callID, batches) = try await client.shared.stream(
                        .readRequest(request), timeout: options.timeout, deadline: deadline)
                    self.state = .streaming(client, options, Call(lease: lease, id: callID, batches: batches, credit: credit))
                } catch {
                    self.state = .finished
                    throw error
                }
            case .streaming(let client, let options, var call):
                let batch: [LogbookWire.RecordedEvent]?
                do {
                    batch = try await call.batches.next()
                } catch var error as LogbookError where error.code == .unavailable {
                    if !error.isFromServer {
                        client.shared.lost(generation: call.lease.generation, reason: error)
                    }
                    if error.wasNotSent {
                        // The connection was lost before the request left: send it on the next.
                        self.state = .idle(client, options)
                        continue
                    }
                    self.state = .finished
                    error.isSafeToRetry = true
                    throw error
                } catch {
                    self.state = .finished
                    throw error
                }
                guard let batch else {
                    self.state = .finished
                    return nil
                }
                if let grant = call.credit.took(events: batch.count, bytes: batch.reduce(0) { $0 + $1.approximateBytes }) {
                    call.lease.connection.grantCredit(call.id, count: grant)
                }
                self.state = .streaming(client, options, call)
                self.events.refill(batch)
            }
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
        if case .revision? = options.from?.point, !options.selector.isStream {
            throw LogbookError(
                code: .invalidArgument,
                message: "a read of \(options.selector) starts at a position, not a revision"
            )
        }
        var asOfTimeUnixMicros: Int64 = 0
        if options.asOf == nil, let time = options.asOfTime {
            guard let micros = time.unixMicrosAfterEpoch else {
                throw LogbookError(code: .invalidArgument, message: "a read's as-of time must be after 1970, not \(time)")
            }
            asOfTimeUnixMicros = micros
        }
        return ReadRequest(
            selector: options.selector.wire,
            from: options.from?.point.wire,
            direction: options.direction == .forwards ? .forwards : .backwards,
            maxCount: maxCount,
            filter: options.filter?.wire,
            asOfPosition: options.asOf ?? 0,
            asOfTimeUnixMicros: asOfTimeUnixMicros
        )
    }
}

extension LogbookWire.RecordedEvent {
    /// About the bytes this event takes on the wire: what read credit is sized by.
    fileprivate var approximateBytes: Int {
        self.metadata.reduce(self.data.count + self.stream.utf8.count + self.type.utf8.count + 64) {
            $0 + $1.key.utf8.count + $1.value.utf8.count + 4
        }
    }
}
