@testable internal import LogbookStorage
internal import Testing

/// Optimistic concurrency: each expectation against a missing stream and a stream
/// whose last revision is 2, passing and failing.
@Suite struct ExpectedRevisionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        /// Events already in the stream (0: the stream does not exist).
        var existing: Int
        var expected: ExpectedRevision
        var passes: Bool

        var testDescription: String {
            "\(expected) on \(existing == 0 ? "a missing stream" : "revision \(existing - 1)") \(passes ? "passes" : "fails")"
        }
    }

    static let cases: [Case] = [
        Case(existing: 0, expected: .any, passes: true),
        Case(existing: 3, expected: .any, passes: true),
        Case(existing: 0, expected: .noStream, passes: true),
        Case(existing: 3, expected: .noStream, passes: false),
        Case(existing: 0, expected: .streamExists, passes: false),
        Case(existing: 3, expected: .streamExists, passes: true),
        Case(existing: 3, expected: .exact(2), passes: true),
        Case(existing: 3, expected: .exact(1), passes: false),
        Case(existing: 3, expected: .exact(3), passes: false),
        Case(existing: 0, expected: .exact(0), passes: false),
        Case(existing: 1, expected: .exact(0), passes: true),
    ]

    @Test(arguments: cases)
    func expectation(_ testCase: Case) async throws {
        try await StoreFixture.withStore { store in
            if testCase.existing > 0 {
                _ = try await store.append([Make.write("order-1", .noStream, Make.events(testCase.existing))])
            }
            let head = store.headPosition
            let before: UInt64? = testCase.existing == 0 ? nil : UInt64(testCase.existing - 1)
            let append = [Make.write("order-1", testCase.expected, Make.events(2))]
            if testCase.passes {
                let result = try await store.append(append)
                let first = UInt64(testCase.existing)
                #expect(result.streams == [
                    StreamWriteResult(stream: "order-1", firstRevision: first, lastRevision: first + 1, positions: [head + 1, head + 2])
                ])
                #expect(try store.streamRevision("order-1") == first + 1)
                #expect(store.headPosition == head + 2)
            } else {
                let error = await #expect(throws: StorageError.self) { try await store.append(append) }
                #expect(error?.code == .wrongExpectedRevision)
                #expect(error?.detail == .wrongExpectedRevision(stream: "order-1", expected: testCase.expected, actual: before))
                #expect(store.headPosition == head, "a refused append writes nothing")
                #expect(try store.streamRevision("order-1") == before)
                if testCase.existing > 0 {
                    #expect(try Make.readStream(store, "order-1").count == testCase.existing)
                }
            }
        }
    }

    /// Expectations inside one batch see the tentative heads of earlier appends in it:
    /// of many concurrent `exact(0)` appends to a one-event stream exactly one wins.
    @Test func concurrentExactExpectationsHaveOneWinner() async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.append([Make.write("race", .noStream, Make.events(1))])
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        (try? await store.append([Make.write("race", .exact(0), Make.events(1))])) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try store.streamRevision("race") == 1)
            #expect(try Make.readStream(store, "race").map(\.revision) == [0, 1])
        }
    }
}
