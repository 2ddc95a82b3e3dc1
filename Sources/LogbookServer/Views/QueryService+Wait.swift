internal import LogbookStorage
internal import LogbookWire

extension QueryService {
    /// Waits until the view's group (the log, for a system view) has processed every event
    /// up to `min_position` (DESIGN.md §6: read your own writes); returns the source to read.
    ///
    /// Nothing polls: the group's checkpoint watch wakes the wait when the checkpoint
    /// moves, and it outlives restarts of the group (new settings), so a restart neither
    /// ends nor delays it. The watch closes only when the group is deleted or the server
    /// stops; the view is then looked up again, which says why it cannot be read.
    func wait(for request: QueryRequest, on source: Source) async throws -> Source {
        let wait = request.waitMs == 0 ? self.limits.queryWaitDefault : .milliseconds(request.waitMs)
        guard wait <= self.limits.queryWaitMax else {
            throw CallError.limit(
                "QueryRequest.wait_ms", value: Int(request.waitMs), max: Int(self.limits.queryWaitMax.components.seconds * 1000),
                code: .invalidArgument)
        }
        let deadline = ContinuousClock.now + wait
        var source = source
        while true {
            let (watch, what) = self.watch(of: source)
            switch await watch.wait(until: request.minPosition, deadline: deadline) {
            case .reached:
                return source
            case .cancelled:
                throw CancellationError()
            case .deadline:
                throw CallError(.deadlineExceeded, """
                    \(what) has processed up to position \(watch.value), not yet \(request.minPosition), \
                    after waiting \(wait)
                    """)
            case .closed:
                try Task.checkCancellation()
                source = try await self.source(of: request.view)
                guard self.watch(of: source).watch !== watch else {
                    throw CallError(.unavailable, "\(what) stopped before it reached position \(request.minPosition)")
                }
            }
        }
    }

    private func watch(of source: Source) -> (watch: PositionWatch, what: String) {
        switch source {
        case .view(let definition, let checkpoint):
            (checkpoint, "view \(definition.name) (group \(definition.group))")
        case .store, .rows:
            (self.head, "the log")
        }
    }
}
