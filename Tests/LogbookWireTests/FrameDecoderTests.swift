internal import LogbookWire
internal import NIOCore
internal import NIOEmbedded
internal import Testing

/// Bytes from a peer that must not become a frame, and the edges of what may.
@Suite struct FrameDecoderTests {
    static let frameBytesMax = 1_024

    /// A payload with its length prefix.
    static func framed(_ payload: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(payload.count))
        buffer.writeBytes(payload)
        return buffer
    }

    static func encoded(_ frame: Frame) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try frame.encode(into: &buffer)
        return buffer
    }

    /// The length alone is enough to refuse: the decoder must not wait for (or hold) a
    /// payload it will never accept.
    @Test(arguments: [UInt32.max, UInt32(frameBytesMax + 1)], [0, 3])
    func declaredLengthPastLimitIsRefusedAtOnce(length: UInt32, payloadBytes: Int) {
        var buffer = ByteBuffer()
        buffer.writeInteger(length)
        buffer.writeRepeatingByte(0x08, count: payloadBytes)
        let decoder = FrameDecoder(frameBytesMax: Self.frameBytesMax)

        let error = #expect(throws: WireError.self) { try decoder.decodeFrame(from: &buffer) }
        #expect(error?.code == .resourceExhausted)
    }

    @Test(arguments: [UInt32.max, UInt32(frameBytesMax + 1)])
    func declaredLengthPastLimitFailsTheChannel(length: UInt32) throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(frameBytesMax: Self.frameBytesMax)))
        var buffer = ByteBuffer()
        buffer.writeInteger(length)

        let error = #expect(throws: WireError.self) { try channel.writeInbound(buffer) }
        #expect(error?.code == .resourceExhausted)
        #expect(try channel.readInbound(as: Frame.self) == nil)
        _ = try? channel.finish()
    }

    /// A length of exactly the limit is allowed: the decoder waits for the rest.
    @Test func declaredLengthAtLimitWaitsForPayload() throws {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(Self.frameBytesMax))
        buffer.writeRepeatingByte(0x08, count: 3)
        let before = buffer

        #expect(try FrameDecoder(frameBytesMax: Self.frameBytesMax).decodeFrame(from: &buffer) == nil)
        #expect(buffer == before)
    }

    /// Cut inside the length prefix, right after it, and one byte short of the payload.
    @Test(arguments: [2, 4, -1])
    func truncatedFrameNeedsMoreDataThenFailsAtEOF(cut: Int) throws {
        let frame = Frame(callID: 5, body: .hello(Hello(protocolVersion: 1, clientName: "client ü")))
        let whole = try Self.encoded(frame)
        let keep = cut >= 0 ? cut : whole.readableBytes + cut
        let truncated = try #require(whole.getSlice(at: whole.readerIndex, length: keep))

        var buffer = truncated
        #expect(try FrameDecoder(frameBytesMax: Self.frameBytesMax).decodeFrame(from: &buffer) == nil)
        #expect(buffer == truncated)

        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(frameBytesMax: Self.frameBytesMax)))
        try channel.writeInbound(truncated)
        #expect(try channel.readInbound(as: Frame.self) == nil)
        let error = #expect(throws: WireError.self) { try channel.finish() }
        #expect(error?.code == .invalidArgument)
    }

    /// Payloads a peer could send with a valid length, each hand-encoded.
    struct MalformedPayload: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var testDescription: String { self.name }
    }

    @Test(arguments: [
        MalformedPayload(name: "0xFF repeated", bytes: [UInt8](repeating: 0xFF, count: 16)),
        MalformedPayload(name: "varint cut short", bytes: [0x08, 0x80]),
        MalformedPayload(name: "length-delimited field past the end", bytes: [0x52, 0x10, 0x08, 0x01]),
        MalformedPayload(name: "field number 0", bytes: [0x00, 0x01]),
        // Frame.hello (field 10) holding Hello.client_name (field 2) = C3 28, a lead byte
        // followed by a byte that cannot continue it.
        MalformedPayload(name: "invalid UTF-8", bytes: [0x52, 0x04, 0x12, 0x02, 0xC3, 0x28]),
        // Frame.read_request (30) . filter (5) . event_types (1) = FF.
        MalformedPayload(name: "invalid UTF-8 in a nested repeated string", bytes: [0xF2, 0x01, 0x05, 0x2A, 0x03, 0x0A, 0x01, 0xFF]),
        // Hello.client_name = "a\0b".
        MalformedPayload(name: "NUL in a string", bytes: [0x52, 0x05, 0x12, 0x03, 0x61, 0x00, 0x62]),
        MalformedPayload(name: "NUL-only string", bytes: [0x52, 0x03, 0x12, 0x01, 0x00]),
        // Frame.read_request (30) . filter (5) . event_types (1) = "a\0".
        MalformedPayload(
            name: "NUL in a nested repeated string",
            bytes: [0xF2, 0x01, 0x06, 0x2A, 0x04, 0x0A, 0x02, 0x61, 0x00]
        ),
        // Frame.ack (45): delivery_ids (1) = [5] unpacked, one byte shorter than packed,
        // which hides the byte that cutting view_writes (2) . view (1) = "a\0" at the NUL
        // loses: the decoded frame measures exactly the bytes received.
        MalformedPayload(
            name: "NUL in a string, size made up by an unpacked repeated field",
            bytes: [0xEA, 0x02, 0x08, 0x08, 0x05, 0x12, 0x04, 0x0A, 0x02, 0x61, 0x00]
        ),
        // Frame.status (12) . code (1) = 99, which Code does not have.
        MalformedPayload(name: "unknown enum value", bytes: [0x62, 0x02, 0x08, 0x63]),
    ])
    func malformedPayloadIsInvalidArgument(_ payload: MalformedPayload) throws {
        var buffer = Self.framed(payload.bytes)
        let error = #expect(throws: WireError.self) {
            try FrameDecoder(frameBytesMax: Self.frameBytesMax).decodeFrame(from: &buffer)
        }
        #expect(error?.code == .invalidArgument)

        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(frameBytesMax: Self.frameBytesMax)))
        let channelError = #expect(throws: WireError.self) { try channel.writeInbound(Self.framed(payload.bytes)) }
        #expect(channelError?.code == .invalidArgument)
        #expect(try channel.readInbound(as: Frame.self) == nil)
        _ = try? channel.finish()
    }

    @Test func emptyPayloadIsAnEmptyFrame() throws {
        var buffer = Self.framed([])
        #expect(buffer.readableBytes == 4)
        let frame = try #require(try FrameDecoder(frameBytesMax: Self.frameBytesMax).decodeFrame(from: &buffer))
        #expect(frame.body == nil)
        #expect(frame.callID == 0)
        #expect(frame == Frame())
        #expect(buffer.readableBytes == 0)
    }

    /// A field this version does not know (from a newer peer) is skipped, as proto3 says.
    @Test func unknownFieldIsSkipped() throws {
        // Field 99, varint 1, then call_id = 7.
        var buffer = Self.framed([0x98, 0x06, 0x01, 0x08, 0x07])
        let frame = try #require(try FrameDecoder(frameBytesMax: Self.frameBytesMax).decodeFrame(from: &buffer))
        #expect(frame == Frame(callID: 7))
    }
}
