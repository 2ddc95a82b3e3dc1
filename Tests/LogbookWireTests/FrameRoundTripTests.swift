internal import LogbookWire
internal import NIOCore
internal import Testing

/// Every message survives encode then decode unchanged, and the samples that show it reach
/// every declaration in Generated/Messages.swift.
@Suite struct FrameRoundTripTests {
    @Test(arguments: FrameSamples.all)
    func roundTrip(_ sample: NamedFrame) throws {
        var buffer = ByteBuffer()
        try sample.frame.encode(into: &buffer)

        let length = try #require(buffer.getInteger(at: buffer.readerIndex, as: UInt32.self))
        #expect(Int(length) == buffer.readableBytes - Frame.lengthPrefixBytes)
        let payload = try #require(buffer.getSlice(at: buffer.readerIndex + Frame.lengthPrefixBytes, length: Int(length)))
        #expect(try Frame.decode(payload: payload) == sample.frame)

        let decoder = FrameDecoder(frameBytesMax: 16 << 20)
        let decoded = try decoder.decodeFrame(from: &buffer)
        #expect(decoded == sample.frame)
        #expect(buffer.readableBytes == 0)
    }

    /// Encoding is deterministic: the same frame gives the same bytes, and re-encoding a
    /// decoded frame gives them again.
    @Test(arguments: FrameSamples.all)
    func reencodingGivesTheSameBytes(_ sample: NamedFrame) throws {
        var first = ByteBuffer()
        try sample.frame.encode(into: &first)
        var copy = first
        let decoded = try #require(try FrameDecoder(frameBytesMax: 16 << 20).decodeFrame(from: &copy))
        var second = ByteBuffer()
        try decoded.encode(into: &second)
        #expect(first == second)
    }

    @Test func samplesCoverEveryDeclaration() throws {
        let declared = try GeneratedDeclarations.load()
        var coverage = MessageCoverage()
        for sample in FrameSamples.all {
            coverage.visit(sample.frame)
        }

        // The parser found the generated types at all (50 messages, 6 enums with 37 values today).
        #expect(declared.messages.count >= 50)
        #expect(declared.enumValues.count >= 37)
        #expect(declared.fields.count >= 149)
        #expect(declared.oneofMembers.contains("Frame.Body.adminReply"))

        #expect(declared.messages.subtracting(coverage.messages).sorted() == [], "messages no sample holds")
        // Mirror sees exactly the stored properties the generator declared.
        #expect(coverage.fields == declared.fields)
        #expect(declared.fields.subtracting(coverage.setFields).sorted() == [], "fields no sample sets")
        #expect(declared.oneofMembers.subtracting(coverage.oneofMembers).sorted() == [], "oneof members no sample holds")
        #expect(declared.enumValues.subtracting(coverage.enumValues).sorted() == [], "enum values no sample holds")
    }

    /// Bytes written by protoc (`protoc --encode=logbook.v1.Frame`), a protobuf
    /// implementation other than protobuf-c, so both sides agree on the wire format and not
    /// only with themselves.
    @Test(arguments: [
        (
            Frame(callID: 1, body: .hello(Hello(protocolVersion: 1, clientName: "ü"))),
            [0x08, 0x01, 0x52, 0x06, 0x08, 0x01, 0x12, 0x02, 0xC3, 0xBC] as [UInt8]
        ),
        (Frame(), []),
        (
            Frame(callID: UInt64.max, timeoutMs: 300, body: .credit(Credit(count: UInt32.max))),
            [
                0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x10, 0xAC, 0x02,
                0xE2, 0x02, 0x06, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F,
            ]
        ),
        (
            Frame(callID: 7, body: .ack(Ack(deliveryIDs: [1, 300], viewWrites: [ViewWrite(view: "v", key: "k", op: .remove(false))]))),
            [
                0x08, 0x07, 0xEA, 0x02, 0x0F, 0x0A, 0x03, 0x01, 0xAC, 0x02, 0x12, 0x08, 0x0A, 0x01, 0x76,
                0x12, 0x01, 0x6B, 0x28, 0x00,
            ]
        ),
        (
            Frame(
                callID: 2,
                body: .status(
                    Status(
                        code: .failedPrecondition,
                        message: "m",
                        detail: .wrongExpectedRevision(
                            WrongExpectedRevision(
                                stream: "s",
                                expected: ExpectedRevision(kind: .exact, revision: 5),
                                streamExists: true,
                                actualRevision: 6
                            )
                        )
                    )
                )
            ),
            [
                0x08, 0x02, 0x62, 0x14, 0x08, 0x09, 0x12, 0x01, 0x6D, 0x1A, 0x0D, 0x0A, 0x01, 0x73, 0x12,
                0x04, 0x08, 0x03, 0x10, 0x05, 0x18, 0x01, 0x20, 0x06,
            ]
        ),
        (
            Frame(
                callID: 3,
                body: .readRequest(
                    ReadRequest(selector: Selector(kind: .all(Empty())), from: StartFrom(kind: .revision(0)), direction: .backwards)
                )
            ),
            [0x08, 0x03, 0xF2, 0x01, 0x0A, 0x0A, 0x02, 0x12, 0x00, 0x12, 0x02, 0x18, 0x00, 0x18, 0x01]
        ),
        (
            Frame(callID: 4, body: .appendReply(AppendReply(commitTimeUnixMicros: -1))),
            [0x08, 0x04, 0xAA, 0x01, 0x0B, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        ),
    ])
    func matchesProtocBytes(frame: Frame, payload: [UInt8]) throws {
        var buffer = ByteBuffer()
        try frame.encode(into: &buffer)
        var expected = ByteBuffer()
        expected.writeInteger(UInt32(payload.count))
        expected.writeBytes(payload)
        #expect(buffer == expected)

        let decoded = try payload.withUnsafeBytes { bytes in try Frame.decode(payload: bytes) }
        #expect(decoded == frame)
    }
}
