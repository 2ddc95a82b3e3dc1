internal import Logbook
internal import Testing

@Suite("Read credit")
struct ReadCreditTests {
    @Test func aFastReaderGrantsInQuartersUpToTheEventWindow() {
        var credit = ReadCredit(initial: 512, eventsMax: 2048, bytesMax: 4 << 20)
        #expect(credit.initial == 512)
        // Small events: the window is 2,048 events; 512 taken leaves nothing outstanding.
        #expect(credit.took(events: 512, bytes: 512 * 200) == 2048)
        #expect(credit.took(events: 256, bytes: 256 * 200) == nil, "less than a quarter short")
        #expect(credit.took(events: 256, bytes: 256 * 200) == 512)
    }

    @Test func largeEventsGetFewerCredits() {
        var credit = ReadCredit(initial: 512, eventsMax: 2048, bytesMax: 4 << 20)
        // 1 MiB events: a window of 4 events.
        #expect(credit.took(events: 1, bytes: 1 << 20) == nil, "511 still outstanding")
        var granted: UInt32 = 0
        for _ in 0..<511 { granted += credit.took(events: 1, bytes: 1 << 20) ?? 0 }
        #expect(granted == 4, "the window shrinks to what 4 MiB holds")
    }

    @Test func aReaderWithNothingOutstandingAlwaysGetsCredit() {
        // Whatever the sizes, a reader that took everything it was granted is granted more:
        // the server waits on it otherwise.
        var credit = ReadCredit(initial: 3, eventsMax: 10, bytesMax: 100)
        #expect(credit.took(events: 3, bytes: 3_000) == 1, "events past the byte window still flow, one at a time")
        #expect(credit.took(events: 1, bytes: 1_000) == 1)
        #expect(credit.took(events: 1, bytes: 5) == 10, "small events again: the whole event window")
    }

    @Test func theInitialCreditIsWithinTheWindow() {
        #expect(ReadCredit(initial: 0, eventsMax: 10, bytesMax: 100).initial == 1)
        #expect(ReadCredit(initial: 50, eventsMax: 10, bytesMax: 100).initial == 10)
    }
}
