internal import LogbookStorage
internal import NIOPosix

extension EventStore {
    /// A read on the thread pool, off the event loops and the cooperative pool.
    ///
    /// A stream nobody has written to reads as empty, as in Message DB: a projection or a
    /// subscription that reads before the first append needs no special case.
    func read(_ request: LogbookStorage.ReadRequest, on threadPool: NIOThreadPool) async throws -> [LogbookStorage.RecordedEvent] {
        do {
            return try await threadPool.runIfActive { try self.read(request) }
        } catch let error as StorageError where error.code == .notFound {
            return []
        }
    }
}
