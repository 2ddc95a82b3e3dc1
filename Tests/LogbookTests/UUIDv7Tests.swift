internal import Foundation
internal import Synchronization
internal import Testing

@testable internal import Logbook

@Suite("UUIDv7")
struct UUIDv7Tests {
    @Test("lays out time, version, counter, variant and random bits as RFC 9562 says")
    func layout() {
        let id = UUIDv7.make(unixMillis: 0x0123_4567_89AB, counter: 0xABC, random: 0xFFFF_FFFF_FFFF_FFFF)
        let bytes = id.bytes
        #expect(Array(bytes[0..<6]) == [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB])
        #expect(bytes[6] >> 4 == 0x7, "version nibble")
        #expect(bytes[6] & 0x0F == 0xA && bytes[7] == 0xBC, "12-bit counter")
        #expect(bytes[8] >> 6 == 0b10, "RFC 4122 variant")
        #expect(bytes[8] & 0x3F == 0x3F && bytes[9...].allSatisfy { $0 == 0xFF }, "62 random bits")
        #expect(id.uuidString.lowercased().hasPrefix("01234567-89ab-7abc-bfff-"))
    }

    @Test("a child made by fork draws new random bits instead of going on with its parent's")
    func aForkedChildDrawsNewRandomBits() {
        var parent = UUIDv7.RandomBlock()
        _ = parent.next()
        var child = parent  // the copy fork makes
        let parentNext = parent.next()
        UUIDv7.forks.wrappingAdd(1, ordering: .relaxed)  // what the fork handler does in the child
        #expect(child.next() != parentNext)
    }

    private static func millis(_ id: UUID) -> UInt64 {
        id.bytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    @Test("a new id carries the current time in milliseconds")
    func carriesTime() {
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        let id = EventData.makeID()
        let after = UInt64(Date().timeIntervalSince1970 * 1000)
        // The shared generator may run ahead of the clock by a few milliseconds after a burst.
        #expect(Self.millis(id) >= before && Self.millis(id) <= after + 100)
        #expect(id.bytes[6] >> 4 == 7)
        #expect(id.bytes[8] >> 6 == 0b10)
    }

    @Test("ids made one after another are strictly increasing, even in one millisecond")
    func strictlyIncreasing() {
        let ids = (0..<20_000).map { _ in EventData.makeID() }
        for (previous, next) in zip(ids, ids.dropFirst()) {
            #expect(previous.bytes.lexicographicallyPrecedes(next.bytes))
        }
        #expect(Set(ids).count == ids.count)
    }

    @Test("within a millisecond the counter counts; when it runs out, the time moves on")
    func counterOverflow() {
        var generator = UUIDv7.Generator()
        let first = generator.next(nowMillis: 1000, counterSeed: UUIDv7.counterMax - 1, random: 0)
        let second = generator.next(nowMillis: 1000, counterSeed: 5, random: 0)
        let third = generator.next(nowMillis: 1000, counterSeed: 5, random: 0)
        #expect(Self.millis(first) == 1000 && Self.millis(second) == 1000)
        #expect(second.bytes[6] & 0x0F == 0xF && second.bytes[7] == 0xFF)
        #expect(Self.millis(third) == 1001 && third.bytes[6] & 0x0F == 0 && third.bytes[7] == 0)
        #expect(first.bytes.lexicographicallyPrecedes(second.bytes))
        #expect(second.bytes.lexicographicallyPrecedes(third.bytes))
    }

    @Test("a clock that steps back does not break the order")
    func clockStepsBack() {
        var generator = UUIDv7.Generator()
        let later = generator.next(nowMillis: 5000, counterSeed: 7, random: .max)
        let earlier = generator.next(nowMillis: 4000, counterSeed: 0, random: 0)
        #expect(Self.millis(earlier) == 5000)
        #expect(later.bytes.lexicographicallyPrecedes(earlier.bytes))
    }

    @Test("events get a fresh UUIDv7 id by default")
    func eventDefaultID() {
        let first = EventData(type: "A", json: "{}")
        let second = EventData(type: "A", json: "{}")
        #expect(first.id != second.id)
        #expect(first.id.bytes[6] >> 4 == 7)
        #expect(first.contentType == "application/json")
        #expect(first.data == Array("{}".utf8))
    }
}
