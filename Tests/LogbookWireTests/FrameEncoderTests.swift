internal import LogbookWire
internal import NIOCore
internal import NIOEmbedded
internal import Testing

/// What the sending side refuses to put on the wire.
@Suite struct FrameEncoderTests {
    /// protobuf-c measures strings with strlen, so a NUL would cut the string short on the
    /// wire; the encoder refuses it wherever the string sits.
    @Test(arguments: [
        NamedFrame(name: "top-level string", frame: Frame(body: .hello(Hello(clientName: "a\u{0}b")))),
        NamedFrame(name: "NUL only", frame: Frame(body: .hello(Hello(clientName: "\u{0}")))),
        NamedFrame(name: "string in a oneof", frame: Frame(body: .adminRequest(AdminRequest(op: .dropView("a\u{0}b"))))),
        NamedFrame(
            name: "repeated string",
            frame: Frame(body: .readRequest(ReadRequest(filter: Filter(eventTypes: ["ok", "a\u{0}b"]))))
        ),
        NamedFrame(
            name: "deeply nested string",
            frame: Frame(
                body: .appendRequest(
                    AppendRequest(streams: [StreamAppend(events: [ProposedEvent(metadata: [MetadataEntry(key: "k", value: "a\u{0}b")])])])
                )
            )
        ),
    ])
    func stringWithNULIsRefused(_ sample: NamedFrame) {
        var buffer = ByteBuffer()
        let error = #expect(throws: WireError.self) { try sample.frame.encode(into: &buffer) }
        #expect(error?.code == .invalidArgument)
        #expect(buffer.readableBytes == 0)
    }

    @Test func frameLargerThanLimitIsRefusedBeforeWriting() throws {
        let frame = Frame(callID: 1, body: .hello(Hello(clientName: String(repeating: "x", count: 100))))
        var reference = ByteBuffer()
        try frame.encode(into: &reference)
        let size = reference.readableBytes - Frame.lengthPrefixBytes

        var atLimit = ByteBuffer()
        try frame.encode(into: &atLimit, frameBytesMax: size)
        #expect(atLimit == reference)

        var overLimit = ByteBuffer()
        let error = #expect(throws: WireError.self) { try frame.encode(into: &overLimit, frameBytesMax: size - 1) }
        #expect(error?.code == .resourceExhausted)
        #expect(overLimit.readableBytes == 0)
    }

    @Test func frameEncoderRefusesFrameLargerThanItsLimit() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder(frameBytesMax: 64)))
        let small = Frame(callID: 1, body: .hello(Hello(clientName: "small")))
        let large = Frame(callID: 2, body: .hello(Hello(clientName: String(repeating: "ü", count: 64))))

        try channel.writeOutbound(small)
        var written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(try FrameDecoder(frameBytesMax: 64).decodeFrame(from: &written) == small)

        let error = #expect(throws: WireError.self) { try channel.writeOutbound(large) }
        #expect(error?.code == .resourceExhausted)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try? channel.finish()
    }
}
