internal import Foundation
internal import LogbookStorage
internal import Testing

@Suite struct EventIDTests {
    @Test func v7IDsIncreaseAndCarryVersionAndVariant() {
        let ids = (0..<10_000).map { _ in EventID.v7() }
        for (previous, next) in zip(ids, ids.dropFirst()) {
            #expect(previous.high < next.high, "the 12-bit counter orders ids within a millisecond")
        }
        for id in ids.prefix(100) {
            #expect(id.bytes[6] >> 4 == 7)
            #expect(id.bytes[8] >> 6 == 0b10)
        }
        let millis = ids[0].high >> 16
        let now = UInt64(Date().timeIntervalSince1970 * 1_000)
        #expect(millis <= now && millis + 60_000 > now, "the first 48 bits are the Unix time in milliseconds")
    }

    @Test func stringAndBytesRoundTrip() throws {
        let text = "0189ab12-3cd4-7ef0-8a1b-2c3d4e5f6071"
        let id = try #require(EventID(uuidString: text))
        #expect(id.uuidString == text)
        #expect(EventID(uuidString: text.uppercased()) == id)
        #expect(id.bytes == [0x01, 0x89, 0xAB, 0x12, 0x3C, 0xD4, 0x7E, 0xF0, 0x8A, 0x1B, 0x2C, 0x3D, 0x4E, 0x5F, 0x60, 0x71])
        #expect(EventID(bytes: id.bytes) == id)
        let random = EventID.v7()
        #expect(EventID(uuidString: random.uuidString) == random)
    }

    @Test(arguments: [
        "", "0189ab12-3cd4-7ef0-8a1b-2c3d4e5f607", "0189ab12-3cd4-7ef0-8a1b-2c3d4e5f60711",
        "0189ab12x3cd4-7ef0-8a1b-2c3d4e5f6071", "0189ab12-3cd4-7ef0-8a1b-2c3d4e5f607g", "0189ab123cd47ef08a1b2c3d4e5f6071aaaa",
    ])
    func malformedStringsAreRejected(text: String) {
        #expect(EventID(uuidString: text) == nil)
    }

    @Test(arguments: [0, 15, 17])
    func wrongByteCountsAreRejected(count: Int) {
        #expect(EventID(bytes: Array(repeating: 1, count: count)) == nil)
    }
}
