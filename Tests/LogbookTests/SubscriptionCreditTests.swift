internal import Foundation
internal import Logbook
internal import LogbookWire
internal import Testing

@Suite("Subscription credit and Cancel on the wire, against the fake server")
struct SubscriptionCreditTests {
    private let configuration = SubscriptionStateMachine.Configuration(
        creditWindow: 20,
        creditChunk: 5,
        backoffInitial: .milliseconds(50),
        backoffMax: .seconds(2)
    )

    private func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<250 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test("the server gets the window, then a chunk each time the consumer takes one, and nothing more")
    func creditFollowsTheConsumer() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        var messages = client.subscribe(.all, from: .after(position: 100), filter: nil, configuration: self.configuration)
            .makeAsyncIterator()
        #expect(try await messages.next() == .caughtUp(position: 100))
        var positions: [UInt64] = []
        for _ in 0..<12 {
            positions.append(try #require(try await messages.next()?.event?.position))
        }
        #expect(positions == Array(101...112))
        #expect(try await self.eventually { server.creditGrants == [5, 5] }, "\(server.creditGrants)")
        try await Task.sleep(for: .milliseconds(100))
        #expect(server.subscribeRequests.first?.initialCredit == 20)
        // The consumer stopped taking: the server sent the window and the two chunks, no more,
        // and the client holds at most a window.
        #expect(server.subscriptionEventsSent == 30)
        #expect(server.creditGrants == [5, 5])
        #expect(server.cancelledCalls.isEmpty)
        await client.close()
        await server.stop()
    }

    @Test("dropping the iterator sends Cancel")
    func droppingTheIteratorCancels() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        do {
            var count = 0
            for try await _ in client.subscribe(.all, from: .start, filter: nil, configuration: self.configuration).events {
                count += 1
                if count == 3 { break }
            }
        }
        #expect(try await self.eventually { server.cancelledCalls.count == 1 })
        await client.close()
        await server.stop()
    }

    @Test("cancelling the consuming task sends Cancel and throws CancellationError")
    func cancellingTheTaskCancels() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        let subscription = client.subscribe(.all, from: .start, filter: nil, configuration: self.configuration)
        let consumer = Task {
            for try await _ in subscription.events {
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        #expect(try await self.eventually { server.subscriptionEventsSent > 0 })
        consumer.cancel()
        let result = await consumer.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(try await self.eventually { server.cancelledCalls.count == 1 })
        await client.close()
        await server.stop()
    }
}
