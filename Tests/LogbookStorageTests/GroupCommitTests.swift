internal import LogbookStorage
internal import Synchronization
internal import Testing

/// Many concurrent appenders through group commit: no gaps, no duplicates, and a
/// failing append does not take its batch down.
@Suite struct GroupCommitTests {
    /// Writers × appends each; every writer appends to a shared stream and its own.
    @Test func concurrentWritersLeaveNoGaps() async throws {
        let writers = 8
        let appendsPerWriter = 1_000
        try await StoreFixture.withStore(sync: .full) { store in
            let results = try await withThrowingTaskGroup(of: [(String, AppendResult)].self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        var results = [(String, AppendResult)]()
                        for index in 0..<appendsPerWriter {
                            let stream = index % 2 == 0 ? "shared-\(index % 3)" : "own-\(writer)"
                            let count = 1 + index % 3
                            results.append((stream, try await store.append([Make.write(stream, .any, Make.events(count))])))
                        }
                        return results
                    }
                }
                return try await group.reduce(into: [(String, AppendResult)]()) { $0 += $1 }
            }
            let total = results.reduce(0) { $0 + $1.1.streams[0].positions.count }
            let all = try Make.readAll(store)

            #expect(all.count == total)
            #expect(all.map(\.position) == Make.positions(total))
            #expect(store.headPosition == UInt64(total))
            var byStream = [String: [UInt64]]()
            for event in all { byStream[event.stream, default: []].append(event.revision) }
            for (stream, revisions) in byStream {
                #expect(revisions == Array(0..<UInt64(revisions.count)), "\(stream)")
                #expect(try store.streamRevision(stream) == UInt64(revisions.count - 1))
                #expect(try Make.readStream(store, stream).map(\.revision) == revisions)
            }
            let answered = results.flatMap { $0.1.streams[0].positions }.sorted()
            #expect(answered == Make.positions(total), "every answered position is in the log exactly once")
        }
    }

    /// Bad appends (wrong expectation, reused id, already-existing stream) queued among
    /// good ones all fail alone; every good one commits.
    @Test func failingAppendsDoNotFailTheirBatch() async throws {
        try await StoreFixture.withStore { store in
            let taken = Make.event(id: .v7())
            _ = try await store.append([Make.write("taken", .any, [taken])])
            let outcomes = await withTaskGroup(of: (Int, StorageError?).self) { group in
                for index in 0..<400 {
                    group.addTask {
                        let write: StreamWrite = switch index % 4 {
                        case 0: Make.write("good-\(index)", .exact(7), Make.events(1))
                        case 1: Make.write("good-\(index % 9)", .any, [Make.event(), taken])
                        case 2: Make.write("taken", .noStream, Make.events(1))
                        default: Make.write("good-\(index % 9)", .any, Make.events(2))
                        }
                        do {
                            _ = try await store.append([write])
                            return (index, nil)
                        } catch {
                            return (index, error as? StorageError ?? StorageError(code: .internalError, message: "\(error)"))
                        }
                    }
                }
                return await group.reduce(into: [Int: StorageError?]()) { $0[$1.0] = $1.1 }
            }
            for (index, error) in outcomes {
                switch index % 4 {
                case 0, 2: #expect(error?.code == .wrongExpectedRevision, "append \(index): \(String(describing: error))")
                case 1: #expect(error?.code == .eventIDConflict, "append \(index): \(String(describing: error))")
                default: #expect(error == nil, "append \(index): \(String(describing: error))")
                }
            }
            let all = try Make.readAll(store)
            #expect(all.count == 1 + 100 * 2)
            #expect(all.map(\.position) == Make.positions(all.count))
            #expect(store.headPosition == UInt64(all.count))
            // Rolled-back appends must not leave a hole in the revisions either.
            for stream in Set(all.map(\.stream)) {
                let revisions = all.filter { $0.stream == stream }.map(\.revision)
                #expect(revisions == Array(0..<UInt64(revisions.count)), "\(stream)")
                #expect(try store.streamRevision(stream) == UInt64(revisions.count - 1))
            }
        }
    }

    /// Appends handed over together (`check`, then one `enqueue`, as an event loop does
    /// after a pass over its sockets) commit in order; those past the queue's bound are
    /// refused as overloaded, alone, and after `close` all of them are refused.
    @Test func appendsQueuedTogether() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open()
            let count = StorageLimits.appendQueueDepthMax + 100
            let outcomes = try await Self.enqueueTogether(store, count: count)
            let refused = outcomes.filter { if case .failure = $0 { true } else { false } }
            #expect(refused.count == 100)
            for outcome in refused {
                guard case .failure(let error) = outcome else { continue }
                #expect((error as? StorageError)?.code == .overloaded, "\(error)")
            }
            let all = try Make.readAll(store)
            #expect(all.count == StorageLimits.appendQueueDepthMax)
            #expect(all.map(\.revision) == Array(0..<UInt64(all.count)), "one stream, in the order handed over")

            await store.close()
            let late = try await Self.enqueueTogether(store, count: 3)
            for outcome in late {
                guard case .failure(let error) = outcome else {
                    Issue.record("an append was queued after close")
                    continue
                }
                #expect((error as? StorageError)?.code == .stopped)
            }
        }
    }

    /// Checks `count` one-event appends to one stream, queues them in one hand-off and
    /// returns their outcomes.
    private static func enqueueTogether(_ store: EventStore, count: Int) async throws -> [Result<AppendResult, any Error>] {
        let outcomes = Mutex([Result<AppendResult, any Error>]())
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            var appends = [CheckedAppend]()
            for _ in 0..<count {
                let append = try! store.check([Make.write("together", .any, Make.events(1))]) { result in
                    let finished = outcomes.withLock { outcomes in
                        outcomes.append(result)
                        return outcomes.count == count
                    }
                    if finished { done.resume() }
                }
                appends.append(append)
            }
            store.enqueue(appends)
        }
        return outcomes.withLock { $0 }
    }

    /// `close` answers what is already queued, and refuses what comes after.
    @Test func closeDrainsTheQueue() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open(sync: .full)
            let outcomes = await withTaskGroup(of: UInt64?.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        try? await store.append([Make.write("s-\(index % 5)", .any, Make.events(1))]).streams[0].positions[0]
                    }
                }
                group.addTask {
                    await store.close()
                    return nil
                }
                return await group.reduce(into: [UInt64]()) { if let position = $1 { $0.append(position) } }
            }
            let error = await #expect(throws: StorageError.self) {
                try await store.append([Make.write("late", .any, Make.events(1))])
            }
            #expect(error?.code == .stopped)
            #expect(throws: StorageError.self) { try store.read(ReadRequest(selector: .all, limit: 1)) }

            let reopened = try fixture.open()
            let all = try Make.readAll(reopened)
            #expect(all.map(\.position).sorted() == outcomes.sorted(), "every answered append is durable, nothing else")
            await reopened.close()
        }
    }
}
