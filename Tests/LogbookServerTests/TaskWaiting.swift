internal import Testing

/// Returns once `isWaiting` says a task is parked on the thing under test, so a test acts
/// on a waiter that is really there. Checks once a millisecond, for at most ten seconds:
/// a bound on a broken test, never a timing the test asserts.
func untilWaiting(_ isWaiting: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for _ in 0..<10_000 {
        if isWaiting() { return }
        try await Task.sleep(for: .milliseconds(1))
    }
    Issue.record("nothing started waiting", sourceLocation: sourceLocation)
    throw CancellationError()
}
