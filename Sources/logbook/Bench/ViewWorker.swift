internal import Logbook
internal import Synchronization

/// A benchmark's temporary group and view, and a worker in this process that puts each
/// event the group delivers into the view (keyed by its stream, the event's data as the
/// document) through the event's ack. The view and the group are removed, and the worker
/// stopped, when the benchmark ends, whatever happened.
final class ViewWorker: Sendable {
    let view: String
    private let client: LogbookClient
    /// Why the worker stopped, once it did.
    private let end = Mutex<String?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)

    private init(view: String, client: LogbookClient) {
        self.view = view
        self.client = client
    }

    /// Creates the group and the view and starts the worker, on `client`.
    static func start(
        _ settings: GroupSettings,
        view: String,
        indexedPaths: [String] = [],
        client: LogbookClient,
        harness: BenchHarness
    ) async throws -> ViewWorker {
        harness.onCleanUp {
            try? await client.dropView(view)
            try? await client.deleteGroup(settings.name)
        }
        try await client.createGroup(settings)
        try await client.defineView(ViewDefinition(name: view, group: settings.name, indexedPaths: indexedPaths))
        let projection = ProjectionWorker.writingViews(client: client, group: settings.name, maxInFlight: settings.maxInFlight) { event in
            [.put(view, key: event.stream, json: String(decoding: event.data, as: UTF8.self))]
        }
        let worker = ViewWorker(view: view, client: client)
        let task = Task {
            do {
                try await projection.run()
                worker.end.withLock { $0 = "it returned" }
            } catch {
                worker.end.withLock { $0 = "\(error)" }
            }
        }
        worker.task.withLock { $0 = task }
        harness.onCleanUp { task.cancel() }
        return worker
    }

    /// Waits until the view reflects `append`, asking again every 10 s for as long as the
    /// worker runs, up to `timeout`.
    func waitUntilVisible(_ append: AppendResult?, within timeout: Duration) async throws {
        guard let append else { throw LogbookError(code: .internalError, message: "nothing was appended") }
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                _ = try await self.client.query(ViewQuery(self.view, limit: 1, consistentWith: append, wait: .seconds(10)))
                return
            } catch let error as LogbookError where error.code == .deadlineExceeded && ContinuousClock.now < deadline {
                if let end = self.end.withLock({ $0 }) {
                    throw LogbookError(code: .internalError, message: "the worker filling the view stopped: \(end)")
                }
            }
        }
    }

    /// Stops the worker and waits until it has.
    func stop() async {
        let task = self.task.withLock { $0 }
        task?.cancel()
        await task?.value
    }
}
