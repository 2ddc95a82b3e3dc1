internal import Foundation
@testable internal import LogbookStorage
internal import Synchronization
internal import Testing

/// Reads: from any position, in both directions, within count and byte budgets, never
/// past the head, while a writer appends.
@Suite struct SegmentLogReadTests {
    /// A log of 1,000 records over many small segments.
    static func withLog(_ body: (SegmentLog) throws -> Void) throws {
        try LogFixture.with { fixture in
            let log = try fixture.open(try LogFixture.small(segmentBytes: 16 * 1024))
            try log.appendRecords(1_000, batchSize: 9)
            #expect(log.sealedCount > 5)
            try body(log)
        }
    }

    @Test func forwardsFromEveryPosition() throws {
        try Self.withLog { (log) throws in
            for start in stride(from: UInt64(1), through: 1_000, by: 37) {
                let records = try log.read(from: start, direction: .forwards, countMax: 50, bytesMax: .max)
                let expected = Array(start...min(start + 49, 1_000))
                #expect(records.positions == expected, "from \(start)")
                #expect(expectPayloads(records))
            }
        }
    }

    @Test func backwardsFromEveryPosition() throws {
        try Self.withLog { (log) throws in
            for start in stride(from: UInt64(1_000), through: 1, by: -41) {
                let records = try log.read(from: start, direction: .backwards, countMax: 150, bytesMax: .max)
                let expected = Array((start >= 150 ? start - 149 : 1)...start).reversed()
                #expect(records.positions == Array(expected), "from \(start)")
                #expect(expectPayloads(records))
            }
            let all = try log.read(from: .max, direction: .backwards, countMax: .max, bytesMax: .max)
            #expect(all.positions == Array((1...1_000).reversed()), "from past the head: from the head")
        }
    }

    /// Each position on its own, found through the sparse index of its segment.
    @Test func byPosition() throws {
        try Self.withLog { (log) throws in
            for position in UInt64(1)...1_000 {
                let forwards = try log.read(from: position, direction: .forwards, countMax: 1, bytesMax: .max)
                let backwards = try log.read(from: position, direction: .backwards, countMax: 1, bytesMax: .max)
                #expect(forwards.positions == [position])
                #expect(backwards.positions == [position])
                #expect(Array(forwards[0].payload) == Payload.of(position))
            }
        }
    }

    /// Scattered positions in one pass: near ones stepped to, far ones jumped to through
    /// the index, across segments; a position past the head ends the answer there.
    @Test func byPositions() throws {
        try Self.withLog { (log) throws in
            var generator = SystemRandomNumberGenerator()
            for gap in [1, 2, 21, 63, 64, 65, 200, 999] as [UInt64] {
                let first = UInt64.random(in: 1...gap, using: &generator)
                let positions = Array(stride(from: first, through: 1_000, by: Int(gap)))
                let records = try log.read(positions: positions)
                #expect(records.positions == positions, "every \(gap)")
                #expect(expectPayloads(records))
            }
            let uneven: [UInt64] = [3, 4, 90, 91, 92, 500, 501, 999, 1_000]
            #expect(try log.read(positions: uneven).positions == uneven)
            #expect(try log.read(positions: [5, 700, 1_001, 1_002]).positions == [5, 700])
            #expect(try log.read(positions: []).isEmpty)
        }
    }

    /// Nothing past the head, nothing before the first position, nothing for no count.
    @Test func edges() throws {
        try Self.withLog { (log) throws in
            #expect(try log.read(from: 1_001, direction: .forwards, countMax: 10, bytesMax: .max).isEmpty)
            #expect(try log.read(from: 0, direction: .backwards, countMax: 10, bytesMax: .max).isEmpty)
            #expect(try log.read(from: 0, direction: .forwards, countMax: 2, bytesMax: .max).positions == [1, 2])
            #expect(try log.read(from: 5, direction: .forwards, countMax: 0, bytesMax: .max).isEmpty)
            #expect(try log.read(from: 999, direction: .forwards, countMax: 10, bytesMax: .max).positions == [999, 1_000])
            #expect(try log.read(from: 2, direction: .backwards, countMax: 10, bytesMax: .max).positions == [2, 1])
        }
    }

    /// The byte budget counts payload bytes; the first record always comes.
    @Test(arguments: [ReadDirection.forwards, .backwards])
    func byteBudget(direction: ReadDirection) throws {
        try Self.withLog { (log) throws in
            let start: UInt64 = 500
            let step: Int64 = direction == .forwards ? 1 : -1
            for budget in [0, 1, 100, 1_000, 10_000] {
                let records = try log.read(from: start, direction: direction, countMax: 1_000, bytesMax: budget)
                var expected = [UInt64]()
                var bytes = 0
                var position = start
                while position >= 1, position <= 1_000 {
                    let size = Payload.of(position).count
                    if !expected.isEmpty, bytes + size > budget { break }
                    expected.append(position)
                    bytes += size
                    position = UInt64(Int64(position) + step)
                }
                #expect(records.positions == expected, "budget \(budget)")
                #expect(records.payloadBytes.count <= max(budget, Payload.of(start).count))
            }
        }
    }

    /// Readers on other threads, forwards and backwards, while the writer appends and
    /// rolls segments: every read is a run of consecutive positions ending at or before
    /// the head it could see, with the right payloads.
    @Test func readsWhileAWriterAppends() async throws {
        try await LogFixture.with { fixture in
            let log = try fixture.open(try LogFixture.small(segmentBytes: 16 * 1024))
            let total: UInt64 = 3_000
            let readerFailures = Failures()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The writer: one thread, many small batches.
                    try log.appendRecords(Int(total), batchSize: 3)
                }
                for reader in 0..<3 {
                    group.addTask {
                        var rounds = 0
                        while true {
                            let head = log.headPosition
                            let direction: ReadDirection = (reader + rounds) % 2 == 0 ? .forwards : .backwards
                            let start = head == 0 ? 1 : UInt64(rounds * 97 % Int(head)) + 1
                            let records = try log.read(from: start, direction: direction, countMax: 200, bytesMax: 20_000)
                            let positions = records.positions
                            let consecutive = zip(positions, positions.dropFirst()).allSatisfy {
                                direction == .forwards ? $1 == $0 + 1 : $1 + 1 == $0
                            }
                            if !consecutive || positions.contains(where: { $0 > log.headPosition })
                                || positions.first.map({ $0 != start }) == true || !expectPayloads(records)
                            {
                                readerFailures.list.withLock { $0.append("reader \(reader) from \(start) \(direction): \(positions)") }
                            }
                            rounds += 1
                            if head == total { break }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(readerFailures.list.withLock { $0 } == [])
            #expect(try log.readAll().positions == Array(1...total))
        }
    }
}

/// What readers on other threads found wrong.
final class Failures: Sendable {
    let list = Mutex([String]())
}
