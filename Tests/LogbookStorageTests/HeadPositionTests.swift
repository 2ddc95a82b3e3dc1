internal import LogbookStorage
internal import Testing

/// The commit notifications subscriptions wait on.
@Suite struct HeadPositionTests {
    @Test func observersSeeEachCommitThenTheEnd() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open()
            _ = try await store.append([Make.write("a", .any, Make.events(2))])
            var heads = store.headPositions().makeAsyncIterator()
            #expect(await heads.next() == 2)

            _ = try await store.append([Make.write("a", .any, Make.events(3))])
            #expect(await heads.next() == 5)
            _ = try? await store.append([Make.write("a", .noStream, Make.events(1))])
            _ = try await store.append([Make.write("b", .any, Make.events(1))])
            _ = try await store.append([Make.write("c", .any, Make.events(1))])
            #expect(await heads.next() == 7, "a slow observer sees only the newest head")

            await store.close()
            #expect(await heads.next() == nil)
        }
    }
}
