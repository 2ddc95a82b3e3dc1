internal import LogbookServer
internal import ServiceLifecycle

/// Keeps the store open while the server runs, and closes it (committing what is queued)
/// after the server has stopped.
struct StoreService: Service {
    let store: any ServedStore

    func run() async throws {
        try? await gracefulShutdown()
        await self.store.close()
    }
}
