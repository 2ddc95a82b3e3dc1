internal import LogbookStorage
internal import Testing

@testable internal import LogbookServer

@Suite("Group state machine")
struct GroupStateMachineTests {
    typealias Machine = GroupStateMachine<String>
    let t0 = ContinuousClock.now

    private func settings(
        _ strategy: GroupStrategy, maxInFlight: Int = 10, maxDeliveries: Int = 3,
        retryBackoffDoublingsMax: Int = Limits().groupRetryBackoffDoublingsMax
    ) -> GroupPolicy {
        GroupPolicy(
            strategy: strategy, maxInFlight: maxInFlight, ackTimeout: .seconds(10), maxDeliveries: maxDeliveries,
            retryBackoff: .seconds(1), bufferMax: 100, retryBackoffDoublingsMax: retryBackoffDoublingsMax,
            compactionEntriesMin: Limits().groupCompactionEntriesMin)
    }

    /// Events at positions 1…, each on the given stream.
    private func events(_ streams: [String], from first: UInt64 = 1) -> [(position: UInt64, stream: String, payload: String)] {
        streams.enumerated().map { (first + UInt64($0.offset), $0.element, "e\(first + UInt64($0.offset))") }
    }

    private func deliveries(_ outputs: [Machine.Output]) -> [UInt64: [Machine.Delivery]] {
        var result: [UInt64: [Machine.Delivery]] = [:]
        for case .deliver(let consumer, let batch) in outputs { result[consumer, default: []] += batch }
        return result
    }

    private func positions(_ outputs: [Machine.Output], to consumer: UInt64) -> [UInt64] {
        self.deliveries(outputs)[consumer, default: []].map(\.position)
    }

    private func ids(_ outputs: [Machine.Output], to consumer: UInt64) -> [UInt64] {
        self.deliveries(outputs)[consumer, default: []].map(\.deliveryID)
    }

    private func parked(_ outputs: [Machine.Output]) -> [Machine.Parked] {
        outputs.flatMap { output -> [Machine.Parked] in
            if case .park(let parks) = output { return parks }
            return []
        }
    }

    private func lastCheckpoint(_ outputs: [Machine.Output]) -> UInt64? {
        outputs.reversed().lazy.compactMap { output -> UInt64? in
            if case .settled(_, let checkpoint) = output { return checkpoint }
            return nil
        }.first
    }

    // MARK: Strategies

    @Test func roundRobinTakesTurnsWithinMaxInFlight() {
        var machine = Machine(settings: self.settings(.roundRobin, maxInFlight: 2), checkpoint: 0)
        _ = machine.join(1, now: t0)
        _ = machine.join(2, now: t0)
        let out = machine.load(self.events(["a-1", "a-1", "a-1", "a-1", "a-1", "a-1"]), scannedTo: 6, now: t0)
        #expect(self.positions(out, to: 1) == [1, 3])
        #expect(self.positions(out, to: 2) == [2, 4])
        #expect(machine.inFlightCount == 4, "positions 5 and 6 wait for room")
        let more = machine.ack(1, self.ids(out, to: 1), now: t0)
        #expect(self.positions(more, to: 1) == [5, 6])
    }

    @Test func byStreamSendsOneEventPerStreamAtATimeToAStableConsumer() {
        var machine = Machine(settings: self.settings(.byStream), checkpoint: 0)
        _ = machine.join(1, now: t0)
        _ = machine.join(2, now: t0)
        let streams = ["a-1", "b-1", "a-1", "c-1", "b-1", "a-1"]
        var out = machine.load(self.events(streams), scannedTo: 6, now: t0)
        let first = self.deliveries(out).values.flatMap { $0 }
        #expect(Set(first.map(\.position)) == [1, 2, 4], "the first event of each stream")
        var owner: [String: UInt64] = [:]
        var acked: [String: [UInt64]] = [:]
        // Ack whatever is out until everything is settled; each stream must come in order
        // and always to the same consumer.
        var rounds = 0
        while machine.inFlightCount > 0, rounds < 10 {
            rounds += 1
            var next: [Machine.Output] = []
            for (consumer, batch) in self.deliveries(out) {
                for delivery in batch {
                    #expect(owner[delivery.stream, default: consumer] == consumer, "\(delivery.stream) moved consumers")
                    owner[delivery.stream] = consumer
                    acked[delivery.stream, default: []].append(delivery.position)
                }
                next += machine.ack(consumer, batch.map(\.deliveryID), now: t0)
            }
            out = next
        }
        #expect(acked == ["a-1": [1, 3, 6], "b-1": [2, 5], "c-1": [4]])
        #expect(machine.checkpoint == 6)
    }

    @Test func byStreamConsumerLeavingHandsItsStreamsOverWithTheNextAttempt() {
        var machine = Machine(settings: self.settings(.byStream), checkpoint: 0)
        _ = machine.join(1, now: t0)
        _ = machine.join(2, now: t0)
        let out = machine.load(self.events(["s-1", "s-2", "s-3", "s-4", "s-5", "s-6"]), scannedTo: 6, now: t0)
        let held1 = self.deliveries(out)[1, default: []]
        let held2 = self.deliveries(out)[2, default: []]
        #expect(held1.count + held2.count == 6)
        #expect(!held1.isEmpty && !held2.isEmpty, "six streams spread over two consumers")
        let moved = machine.leave(1, now: t0)
        let redelivered = self.deliveries(moved)[2, default: []]
        #expect(Set(redelivered.map(\.position)) == Set(held1.map(\.position)))
        #expect(redelivered.allSatisfy { $0.attempt == 2 })
        #expect(machine.inFlightCount == 6)
    }

    @Test func singleHasOneActiveConsumerAndAStandbyThatTakesOver() {
        var machine = Machine(settings: self.settings(.single, maxInFlight: 5), checkpoint: 0)
        _ = machine.join(7, now: t0)
        _ = machine.join(8, now: t0)
        let out = machine.load(self.events(["a-1", "b-1", "c-1"]), scannedTo: 3, now: t0)
        #expect(self.positions(out, to: 7) == [1, 2, 3])
        #expect(self.positions(out, to: 8).isEmpty)
        let takeover = machine.leave(7, now: t0)
        #expect(self.positions(takeover, to: 8) == [1, 2, 3])
    }

    // MARK: Checkpoint

    @Test func checkpointNeverPassesAnUnsettledEvent() {
        var machine = Machine(settings: self.settings(.roundRobin), checkpoint: 10)
        _ = machine.join(1, now: t0)
        let out = machine.load(self.events(["a-1", "a-1", "a-1"], from: 11), scannedTo: 20, now: t0)
        let ids = self.ids(out, to: 1)
        #expect(machine.checkpoint == 10)
        let ackThird = machine.ack(1, [ids[2]], now: t0)
        #expect(machine.checkpoint == 10, "13 is acked but 11 and 12 are not")
        guard case .settled(let positions, let checkpoint) = ackThird.first else {
            Issue.record("the ack must be persisted: \(ackThird)")
            return
        }
        #expect(positions == [13])
        #expect(checkpoint == 10)
        _ = machine.ack(1, [ids[0]], now: t0)
        #expect(machine.checkpoint == 11)
        let last = machine.ack(1, [ids[1]], now: t0)
        #expect(machine.checkpoint == 20, "all loaded events settled: up to where the read looked")
        #expect(self.lastCheckpoint(last) == 20)
    }

    @Test func aScanWithNoMatchesMovesTheCheckpoint() {
        var machine = Machine(settings: self.settings(.byStream), checkpoint: 0)
        let out = machine.load([], scannedTo: 500, now: t0)
        #expect(machine.checkpoint == 500)
        #expect(self.lastCheckpoint(out) == 500)
    }

    @Test func staleAndForeignAcksAreIgnored() {
        var machine = Machine(settings: self.settings(.roundRobin, maxInFlight: 1), checkpoint: 0)
        _ = machine.join(1, now: t0)
        _ = machine.join(2, now: t0)
        let out = machine.load(self.events(["a-1", "b-1"]), scannedTo: 2, now: t0)
        let toOne = self.ids(out, to: 1)
        #expect(machine.ack(2, toOne, now: t0).isEmpty, "consumer 2 does not hold it")
        #expect(machine.ack(1, [999], now: t0).isEmpty)
        #expect(machine.inFlightCount == 2)
    }

    // MARK: Retries, timeouts, parking

    @Test func nackRetryComesBackAfterTheBackoffThenParksPastMaxDeliveries() {
        var machine = Machine(settings: self.settings(.roundRobin, maxDeliveries: 2), checkpoint: 0)
        _ = machine.join(1, now: t0)
        var out = machine.load(self.events(["a-1"]), scannedTo: 1, now: t0)
        var id = self.ids(out, to: 1)[0]
        out = machine.nack(1, [id], action: .retry, reason: "boom", now: t0)
        #expect(self.positions(out, to: 1).isEmpty, "not before the backoff")
        #expect(machine.tick(now: t0 + .milliseconds(500)).isEmpty)
        out = machine.tick(now: t0 + .seconds(1))
        let retried = self.deliveries(out)[1, default: []]
        #expect(retried.map(\.attempt) == [2])
        id = retried[0].deliveryID
        out = machine.nack(1, [id], action: .retry, reason: "boom again", now: t0 + .seconds(1))
        let parks = self.parked(out)
        #expect(parks.map(\.position) == [1])
        #expect(parks.first?.reason.contains("boom again") == true)
        #expect(machine.checkpoint == 1, "a parked event counts as settled")
    }

    /// The backoff doubles with each retry (1, 2, 4 s here) and stops growing after
    /// `retryBackoffDoublingsMax` doublings.
    @Test func theRetryBackoffDoublesUpToItsCap() {
        var machine = Machine(settings: self.settings(.roundRobin, maxDeliveries: 10, retryBackoffDoublingsMax: 2), checkpoint: 0)
        _ = machine.join(1, now: t0)
        var id = self.ids(machine.load(self.events(["a-1"]), scannedTo: 1, now: t0), to: 1)[0]
        var now = t0
        for expected in [1, 2, 4, 4, 4] {
            _ = machine.nack(1, [id], action: .retry, reason: "again", now: now)
            #expect(machine.tick(now: now + .seconds(expected) - .milliseconds(1)).isEmpty, "not before \(expected) s")
            now += .seconds(expected)
            let retried = self.deliveries(machine.tick(now: now))[1, default: []]
            #expect(retried.count == 1, "after \(expected) s")
            guard let delivery = retried.first else { return }
            id = delivery.deliveryID
        }
    }

    @Test func anAckTimeoutRedeliversAndFinallyParks() {
        var machine = Machine(settings: self.settings(.roundRobin, maxDeliveries: 2), checkpoint: 0)
        _ = machine.join(1, now: t0)
        _ = machine.load(self.events(["a-1"]), scannedTo: 1, now: t0)
        #expect(machine.nextWakeUp == t0 + .seconds(10))
        #expect(machine.tick(now: t0 + .seconds(9)).isEmpty)
        _ = machine.tick(now: t0 + .seconds(10))  // timed out: retry after 1 s
        let again = machine.tick(now: t0 + .seconds(11))
        #expect(self.deliveries(again)[1]?.map(\.attempt) == [2])
        let parked = machine.tick(now: t0 + .seconds(21))
        #expect(self.parked(parked).map(\.position) == [1])
        #expect(machine.inFlightCount == 0)
    }

    @Test func nackSkipSettlesWithoutParking() {
        var machine = Machine(settings: self.settings(.byStream), checkpoint: 0)
        _ = machine.join(1, now: t0)
        let out = machine.load(self.events(["a-1", "a-1"]), scannedTo: 2, now: t0)
        let skipped = machine.nack(1, self.ids(out, to: 1), action: .skip, reason: "", now: t0)
        #expect(self.parked(skipped).isEmpty)
        #expect(self.positions(skipped, to: 1) == [2], "the stream's next event follows")
        #expect(machine.checkpoint == 1)
    }

    @Test func byStreamParkHoldsTheRestOfTheStreamAndReplayRestoresOrder() throws {
        var machine = Machine(settings: self.settings(.byStream), checkpoint: 0)
        _ = machine.join(1, now: t0)
        var out = machine.load(self.events(["p-1", "q-1", "p-1", "q-1", "p-1"]), scannedTo: 5, now: t0)
        let first = self.deliveries(out)[1, default: []]
        #expect(Set(first.map(\.position)) == [1, 2])
        let poison = try #require(first.first { $0.position == 1 })
        let firstQ = try #require(first.first { $0.position == 2 })
        out = machine.nack(1, [poison.deliveryID], action: .park, reason: "poison", now: t0)
        #expect(self.parked(out).map(\.position) == [1, 3, 5], "the poison event and the rest of its stream")
        #expect(machine.heldStreams == ["p-1"])

        // q-1 goes on, and the checkpoint passes the parked p-1 events.
        out = machine.ack(1, [firstQ.deliveryID], now: t0)
        let secondQ = try #require(self.deliveries(out)[1]?.first)
        #expect(secondQ.position == 4)
        _ = machine.ack(1, [secondQ.deliveryID], now: t0)
        #expect(machine.checkpoint == 5)

        // A later p-1 event is parked on arrival while the stream is held.
        out = machine.load(self.events(["p-1"], from: 6), scannedTo: 6, now: t0)
        #expect(self.parked(out).map(\.position) == [6])
        #expect(machine.checkpoint == 6)

        // Replay sends the parked events back in order, one at a time under by_stream.
        out = machine.replay([(1, "p-1", "r1"), (3, "p-1", "r3"), (5, "p-1", "r5"), (6, "p-1", "r6")], now: t0)
        var replayed: [UInt64] = []
        for _ in 0..<4 {
            let batch = self.deliveries(out)[1, default: []]
            #expect(batch.count == 1)
            guard let delivery = batch.first else { break }
            replayed.append(delivery.position)
            out = machine.ack(1, [delivery.deliveryID], now: t0)
            #expect(out.contains { if case .unpark(let positions) = $0 { positions == [delivery.position] } else { false } })
            #expect(machine.checkpoint == 6, "a replay never moves the checkpoint")
        }
        #expect(replayed == [1, 3, 5, 6])
        _ = machine.release("p-1", now: t0)
        out = machine.load(self.events(["p-1"], from: 7), scannedTo: 7, now: t0)
        #expect(self.positions(out, to: 1) == [7], "after release the stream flows again")
    }

    @Test func afterARestartSettledEventsAreNotDeliveredAndHeldStreamsStayHeld() {
        var machine = Machine(settings: self.settings(.byStream), checkpoint: 1, settledAbove: [3], heldStreams: ["h-1"])
        _ = machine.join(1, now: t0)
        let out = machine.load(self.events(["a-1", "b-1", "h-1", "c-1"], from: 2), scannedTo: 5, now: t0)
        #expect(Set(self.positions(out, to: 1)) == [2, 5], "3 was acked before the restart; 4 is held")
        #expect(self.parked(out).map(\.position) == [4])
    }

    @Test func aRestartedMachineGoesOnNumberingDeliveries() {
        var machine = Machine(settings: self.settings(.roundRobin), checkpoint: 0, firstDeliveryID: 500)
        _ = machine.join(1, now: t0)
        let out = machine.load(self.events(["a-1"]), scannedTo: 1, now: t0)
        #expect(self.ids(out, to: 1) == [500])
        #expect(!machine.holds(1, 1), "an id from before the restart settles nothing")
    }

    @Test func loadingIsBoundedByTheBuffer() {
        var settings = self.settings(.roundRobin)
        settings.bufferMax = 3
        var machine = Machine(settings: settings, checkpoint: 0)
        #expect(machine.room == 3)
        _ = machine.load(self.events(["a-1", "a-1", "a-1"]), scannedTo: 3, now: t0)
        #expect(machine.room == 0)
    }
}
