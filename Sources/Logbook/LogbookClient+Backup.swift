internal import LogbookWire

extension LogbookClient {
    /// Takes a backup: a consistent copy of the daemon's store at one position, taken while
    /// appends go on, sent as the chunks of its files and then a ``BackupManifest``.
    ///
    /// `logbook backup DIR` writes them to a directory that `logbookd restore` turns back
    /// into a data directory. The daemon sends a few chunks (of up to 1 MiB) ahead of the
    /// consumer and waits for it, so a slow writer costs memory for those only. Needs
    /// admin on everything under access control; a PostgreSQL store answers
    /// `UNIMPLEMENTED` (back it up with PostgreSQL's tools).
    public func backup(timeout: Duration? = nil) -> BackupParts {
        BackupParts(client: self, timeout: timeout)
    }
}

/// The parts of a backup as the daemon sends them (``LogbookClient/backup(timeout:)``).
public struct BackupParts: AsyncSequence, Sendable {
    public typealias Element = BackupPart

    private let client: LogbookClient
    private let timeout: Duration?

    init(client: LogbookClient, timeout: Duration?) {
        self.client = client
        self.timeout = timeout
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(client: self.client, timeout: self.timeout)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        private enum State {
            case idle(LogbookClient, Duration?)
            case receiving(LogbookClient, SharedConnection.Lease, callID: UInt64, ClientConnection.Produced<Frame.Body>.AsyncIterator)
            case finished
        }

        /// Chunks the daemon may send ahead of the consumer.
        private static let chunksAhead: UInt32 = 4
        private var state: State

        init(client: LogbookClient, timeout: Duration?) {
            self.state = .idle(client, timeout)
        }

        public mutating func next() async throws -> BackupPart? {
            if case .idle(let client, let timeout) = self.state {
                self.state = .finished
                let lease = try await client.shared.lease(until: .now + (timeout ?? client.configuration.reconnectWait))
                let (callID, frames) = try lease.connection.bodies(
                    .backupRequest(BackupRequest(initialCredit: Self.chunksAhead)), timeout: timeout)
                self.state = .receiving(client, lease, callID: callID, frames)
            }
            guard case .receiving(let client, let lease, let callID, var frames) = self.state else { return nil }
            self.state = .finished
            let frame: Frame.Body?
            do {
                frame = try await frames.next()
            } catch let error as LogbookError where error.code == .unavailable && !error.isFromServer {
                // The connection is gone: the next call reconnects. A backup starts over.
                client.shared.lost(generation: lease.generation, reason: error)
                throw error
            }
            switch frame {
            case .backupChunk(let chunk)?:
                // Taken: the daemon may send one more.
                lease.connection.grantCredit(callID, count: 1)
                self.state = .receiving(client, lease, callID: callID, frames)
                return .chunk(path: chunk.path, offset: chunk.offset, bytes: chunk.data)
            case .backupManifest(let manifest)?:
                self.state = .receiving(client, lease, callID: callID, frames)
                return .manifest(BackupManifest(wire: manifest))
            case let other?:
                throw LogbookError(code: .internalError, message: "a backup got a \(other.name) frame")
            case nil:
                return nil
            }
        }
    }
}
