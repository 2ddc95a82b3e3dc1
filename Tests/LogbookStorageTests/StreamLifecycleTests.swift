internal import LogbookStorage
internal import Testing

/// The lifecycle rules every store applies (issue 16), on their own.
@Suite struct StreamLifecycleTests {
    enum State: CaseIterable, Sendable { case absent, live, deleted, tombstoned }

    private static func refusal<Success>(_ result: Result<Success, StreamLifecycle.Refusal>) -> StreamLifecycle.Refusal? {
        if case .failure(let refusal) = result { return refusal }
        return nil
    }

    /// A stream in `state`; a live or deleted one had revisions 0...4.
    private static func stream(_ state: State) -> StreamLifecycle {
        var stream = StreamLifecycle()
        guard state != .absent else { return stream }
        _ = stream.append(5, expected: .any)
        if state == .deleted { _ = stream.delete(expected: .any, hard: false) }
        if state == .tombstoned { _ = stream.delete(expected: .any, hard: true) }
        return stream
    }

    private static let expectations: [ExpectedRevision] = [.any, .noStream, .streamExists, .exact(4), .exact(0), .exact(5)]

    /// Every state against every expected-revision kind: what an append of two events gets.
    @Test(arguments: State.allCases)
    func appendsByStateAndExpectation(_ state: State) {
        for expected in Self.expectations {
            var stream = Self.stream(state)
            let result = stream.append(2, expected: expected)
            switch (state, expected) {
            case (.tombstoned, _):
                #expect(result == .failure(.streamDeleted), "\(expected)")
            case (.absent, .any), (.absent, .noStream):
                #expect(result == .success(0), "\(expected)")
            case (.deleted, .any), (.deleted, .noStream):
                // Recreated: its revisions go on after the deleted ones.
                #expect(result == .success(5), "\(expected)")
                #expect(!stream.readsAsNotFound)
                #expect(stream.firstVisibleRevision == 5)
            case (.live, .any), (.live, .streamExists), (.live, .exact(4)):
                #expect(result == .success(5), "\(expected)")
            case (.live, _):
                #expect(result == .failure(.wrongExpectedRevision(actual: 4)), "\(expected)")
            case (.absent, _), (.deleted, _):
                // An old revision never matches a deleted stream again.
                #expect(result == .failure(.wrongExpectedRevision(actual: nil)), "\(expected)")
            }
        }
    }

    /// Every state against every expected-revision kind: what a soft or hard delete gets.
    @Test(arguments: State.allCases, [false, true])
    func deletesByStateAndExpectation(_ state: State, hard: Bool) {
        for expected in Self.expectations {
            var stream = Self.stream(state)
            let result = stream.delete(expected: expected, hard: hard)
            let holds = expected.isSatisfied(byHead: state == .live ? 4 : nil)
            if state == .tombstoned {
                #expect(Self.refusal(result) == .streamDeleted)
            } else if holds {
                #expect((try? result.get()) != nil, "\(state) \(expected)")
                #expect(stream.readsAsNotFound)
                #expect(stream.isTombstoned == hard)
                #expect(stream.firstVisibleRevision == nil)
            } else {
                #expect(Self.refusal(result) == .wrongExpectedRevision(actual: state == .live ? 4 : nil), "\(state) \(expected)")
                #expect(stream == Self.stream(state), "a refused delete changes nothing")
            }
        }
    }

    @Test func truncateBeforeMaxCountAndMaxAgeHideEventsAtOnce() {
        var stream = StreamLifecycle()
        _ = stream.append(10, expected: .noStream)
        #expect(stream.firstVisibleRevision == 0)
        stream.truncateBefore = 3
        #expect(stream.firstVisibleRevision == 3)
        stream.maxCount = 4
        #expect(stream.firstVisibleRevision == 6)
        stream.maxCount = 20
        #expect(stream.firstVisibleRevision == 3)
        stream.truncateBefore = 11
        #expect(stream.firstVisibleRevision == nil, "truncated past the last revision: nothing to show")
        _ = stream.append(1, expected: .exact(9))
        #expect(stream.firstVisibleRevision == nil)
        _ = stream.append(1, expected: .exact(10))
        #expect(stream.firstVisibleRevision == 11)

        var aged = StreamLifecycle()
        _ = aged.append(3, expected: .any)
        aged.maxAgeMicros = 1_000
        #expect(aged.isVisible(revision: 1, timeMicros: 5_000, nowMicros: 5_900))
        #expect(!aged.isVisible(revision: 1, timeMicros: 4_000, nowMicros: 5_900))
        #expect(!aged.isVisible(revision: 3, timeMicros: 5_800, nowMicros: 5_900), "past the last revision")
        aged.maxCount = 0
        #expect(!aged.isVisible(revision: 2, timeMicros: 5_800, nowMicros: 5_900), "max count 0 hides all")
    }
}
