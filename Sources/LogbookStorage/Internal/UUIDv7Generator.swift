internal import Synchronization

/// Makes RFC 9562 version-7 UUIDs that strictly increase within this process.
///
/// Time-ordered ids append to the right edge of the event-id index instead of
/// scattering over it (measured ~1.8× faster at 100 events per commit). Layout:
///
/// | bits | field |
/// | --- | --- |
/// | 48 | Unix time, milliseconds |
/// | 4 | version, `0111` |
/// | 12 | counter within the millisecond (RFC 9562 method 1), random start |
/// | 2 | variant, `10` |
/// | 62 | random |
///
/// When the counter runs out within one millisecond the timestamp borrows from the
/// next one, so ids stay strictly increasing even if the wall clock steps back.
final class UUIDv7Generator: Sendable {
    static let shared = UUIDv7Generator()

    private struct State {
        var millis: UInt64 = 0
        var counter: UInt64 = 0
    }

    private let state = Mutex(State())

    func next() -> EventID {
        let now = UInt64(max(0, WallClock.nowMicros() / 1_000))
        let (millis, counter) = state.withLock { state -> (UInt64, UInt64) in
            if now > state.millis {
                state.millis = now
                state.counter = UInt64.random(in: 0..<0x400)
            } else if state.counter < 0xFFF {
                state.counter += 1
            } else {
                state.millis += 1
                state.counter = 0
            }
            return (state.millis, state.counter)
        }
        let high = (millis & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | counter
        let low = UInt64.random(in: 0...UInt64.max) & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        return EventID(high: high, low: low)
    }
}
