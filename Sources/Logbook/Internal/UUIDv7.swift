#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif
internal import Synchronization
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Time-ordered UUIDs, version 7 (RFC 9562), with a 12-bit counter for order within a
/// millisecond (the RFC's "method 1").
///
/// ```
/// byte  0        6        7        8        9 ... 15
///       +--------+--------+--------+--------+---------+
///       | unix ms (48 bits, big-endian)      |
///       +--------+--------+--------+--------+---------+
///                | 0111 cccc | cccc cccc | 10rr rrrr | r … r
///                  version 7   counter      variant    62 random bits
/// ```
package enum UUIDv7 {
    /// The largest value the counter holds (12 bits).
    package static let counterMax: UInt16 = 0xFFF

    private static let shared = Mutex((generator: Generator(), random: RandomBlock()))

    /// A new id, greater than every id this process made before.
    package static func make() -> UUID {
        let nowMillis = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        return self.shared.withLock { state in
            let seed = UInt16.random(in: 0..<(Self.counterMax / 2), using: &state.random)
            let random = state.random.next()
            return state.generator.next(nowMillis: nowMillis, counterSeed: seed, random: random)
        }
    }

    /// The system's random bytes, fetched a block at a time. Drawn a value at a time they
    /// cost two `getrandom` calls per id: about a fifth of the bench client's CPU per event
    /// when it appends 16 events per call.
    ///
    /// A child made by `fork` starts with a copy of the block: drawing on, it would make the
    /// parent's ids again, and the server would take them for retries of the parent's
    /// events. So the block is drawn again after every fork.
    struct RandomBlock: RandomNumberGenerator {
        private var values = [UInt64](repeating: 0, count: 64)
        private var used = 64
        /// `UUIDv7.forks` when the block was drawn.
        private var drawnAfterForks = 0

        init() {
            _ = UUIDv7.countingForks
        }

        mutating func next() -> UInt64 {
            let forks = UUIDv7.forks.load(ordering: .relaxed)
            if self.used == self.values.count || forks != self.drawnAfterForks {
                self.values.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
                (self.used, self.drawnAfterForks) = (0, forks)
            }
            defer { self.used += 1 }
            return self.values[self.used]
        }
    }

    /// How many times this process is a child of `fork` (counted in the child).
    static let forks = Atomic<Int>(0)
    private static let countingForks: Void = {
        pthread_atfork(nil, nil) { UUIDv7.forks.wrappingAdd(1, ordering: .relaxed) }
    }()

    /// Makes ids that increase strictly, whatever the clock does.
    ///
    /// In a new millisecond the counter starts at a random seed below half its range, so
    /// ids stay hard to guess while leaving room for at least 2048 ids in that millisecond.
    /// When a millisecond runs out of counter (or the wall clock steps back), the time
    /// field moves on by one millisecond instead: order wins over the exact time.
    package struct Generator {
        private var unixMillis: UInt64 = 0
        private var counter: UInt16 = 0

        package init() {}

        package mutating func next(nowMillis: UInt64, counterSeed: UInt16, random: UInt64) -> UUID {
            if nowMillis > self.unixMillis {
                self.unixMillis = nowMillis
                self.counter = counterSeed & UUIDv7.counterMax
            } else if self.counter < UUIDv7.counterMax {
                self.counter += 1
            } else {
                self.unixMillis += 1
                self.counter = 0
            }
            return UUIDv7.make(unixMillis: self.unixMillis, counter: self.counter, random: random)
        }
    }

    /// The id with these fields, laid out as above; `counter` keeps its low 12 bits and
    /// `random` its low 62.
    package static func make(unixMillis: UInt64, counter: UInt16, random: UInt64) -> UUID {
        UUID(uuid: (
            UInt8(truncatingIfNeeded: unixMillis >> 40),
            UInt8(truncatingIfNeeded: unixMillis >> 32),
            UInt8(truncatingIfNeeded: unixMillis >> 24),
            UInt8(truncatingIfNeeded: unixMillis >> 16),
            UInt8(truncatingIfNeeded: unixMillis >> 8),
            UInt8(truncatingIfNeeded: unixMillis),
            0x70 | UInt8(truncatingIfNeeded: counter >> 8) & 0x0F,
            UInt8(truncatingIfNeeded: counter),
            0x80 | UInt8(truncatingIfNeeded: random >> 56) & 0x3F,
            UInt8(truncatingIfNeeded: random >> 48),
            UInt8(truncatingIfNeeded: random >> 40),
            UInt8(truncatingIfNeeded: random >> 32),
            UInt8(truncatingIfNeeded: random >> 24),
            UInt8(truncatingIfNeeded: random >> 16),
            UInt8(truncatingIfNeeded: random >> 8),
            UInt8(truncatingIfNeeded: random)
        ))
    }
}

extension UUID {
    /// The 16 bytes of the id, as the wire carries them.
    var bytes: [UInt8] {
        withUnsafeBytes(of: self.uuid) { Array($0) }
    }

    /// The id held in 16 bytes, or nil for any other length.
    init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.init(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        ))
    }
}
