internal import LogbookWire
internal import Testing

@Suite("Frame scan")
struct FrameScanTests {
    /// Frame { append_request { streams {} × count } }, hand-encoded.
    private func appendWithEmptyStreams(_ count: Int) -> [UInt8] {
        var inner: [UInt8] = []
        inner.reserveCapacity(count * 2)
        for _ in 0..<count { inner += [0x0A, 0x00] }
        var length: [UInt8] = []
        var value = inner.count
        repeat {
            length.append(UInt8(value & 0x7F) | (value >= 0x80 ? 0x80 : 0))
            value >>= 7
        } while value > 0
        return [0xA2, 0x01] + length + inner
    }

    @Test func aFloodOfEmptyMessagesIsRefusedBeforeUnpacking() throws {
        let payload = self.appendWithEmptyStreams((1 << 20) + 1)
        #expect(throws: WireError(code: .resourceExhausted, message: "frame holds more than 1048576 messages")) {
            try payload.withUnsafeBytes { try Frame.decode(payload: $0) }
        }
    }

    @Test func manyMessagesUnderTheCeilingDecode() throws {
        let payload = self.appendWithEmptyStreams(1000)
        let frame = try payload.withUnsafeBytes { try Frame.decode(payload: $0) }
        guard case .appendRequest(let request) = frame.body else {
            Issue.record("expected an append request")
            return
        }
        #expect(request.streams.count == 1000)
    }
}
