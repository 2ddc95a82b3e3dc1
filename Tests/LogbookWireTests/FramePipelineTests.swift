internal import LogbookWire
internal import NIOCore
internal import NIOEmbedded
internal import NIOTestUtils
internal import Testing

/// `FrameDecoder` and `FrameEncoder` as they run in a channel pipeline.
@Suite struct FramePipelineTests {
    static let frameBytesMax = 16 << 20

    static func encoded(_ frames: [Frame]) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        for frame in frames {
            try frame.encode(into: &buffer)
        }
        return buffer
    }

    /// A few frames of different shapes, not all samples: the verifier drip-feeds every
    /// byte ten times.
    static let verified: [Frame] = [
        Frame(),
        Frame(callID: 1, body: .hello(Hello(protocolVersion: 1, clientName: "ü€😀"))),
    ] + FrameSamples.full.filter { ["appendRequest", "eventBatch", "ack", "status internal", "adminReply 3"].contains($0.name) }.map(\.frame)

    @Test func verifierAcceptsFrameDecoder() throws {
        #expect(Self.verified.count == 7)
        var pairs = try Self.verified.map { frame in (try Self.encoded([frame]), [frame]) }
        // Two frames in one input, the second cut nowhere.
        pairs.append((try Self.encoded([Self.verified[1], Self.verified[0]]), [Self.verified[1], Self.verified[0]]))
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            FrameDecoder(frameBytesMax: Self.frameBytesMax)
        }
    }

    static func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(FrameDecoder(frameBytesMax: Self.frameBytesMax)),
            MessageToByteHandler(FrameEncoder(frameBytesMax: Self.frameBytesMax)),
        ])
        return channel
    }

    /// Sends `frames` out through one channel's encoder, checks the bytes are theirs, and
    /// feeds the bytes back in through its decoder, which must yield the same frames.
    static func roundTrip(_ frames: [Frame]) throws {
        let channel = try Self.makeChannel()
        var wire = ByteBuffer()
        for frame in frames {
            try channel.writeOutbound(frame)
            while var written = try channel.readOutbound(as: ByteBuffer.self) {
                wire.writeBuffer(&written)
            }
        }
        #expect(wire == (try Self.encoded(frames)))

        try channel.writeInbound(wire)
        var received: [Frame] = []
        while let frame = try channel.readInbound(as: Frame.self) {
            received.append(frame)
        }
        #expect(received == frames)
        #expect(try channel.finish().isClean)
    }

    /// Every sample goes out through the encoder; all the bytes come back in one buffer and
    /// the decoder yields every frame, in order.
    @Test func framesRoundTripThroughPipelineInOneBuffer() throws {
        try Self.roundTrip(FrameSamples.all.map(\.frame))
    }

    /// One frame arriving a byte at a time comes out once, after its last byte.
    @Test func frameSplitIntoSingleBytesComesOutAfterTheLast() throws {
        let channel = try Self.makeChannel()
        let frame = try #require(FrameSamples.full.first { $0.name == "queryRequest 0" }).frame

        try channel.writeOutbound(frame)
        let wire = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(wire.readableBytes > 100)

        for (index, byte) in wire.readableBytesView.enumerated() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            if index < wire.readableBytes - 1 {
                #expect(try channel.readInbound(as: Frame.self) == nil, "a frame after \(index + 1) bytes")
            }
        }
        #expect(try channel.readInbound(as: Frame.self) == frame)
        #expect(try channel.readInbound(as: Frame.self) == nil)
        #expect(try channel.finish().isClean)
    }

    /// Two frames and the start of a third in one buffer: two come out at once, the third
    /// when its rest arrives.
    @Test func framesSplitAcrossBuffers() throws {
        let channel = try Self.makeChannel()
        let frames = FrameSamples.full.prefix(3).map(\.frame)
        var wire = try Self.encoded(frames)
        let thirdSize = try Self.encoded([frames[2]]).readableBytes
        let headBytes = wire.readableBytes - thirdSize + 5
        let head = try #require(wire.getSlice(at: wire.readerIndex, length: headBytes))
        wire.moveReaderIndex(forwardBy: headBytes)

        try channel.writeInbound(head)
        #expect(try channel.readInbound(as: Frame.self) == frames[0])
        #expect(try channel.readInbound(as: Frame.self) == frames[1])
        #expect(try channel.readInbound(as: Frame.self) == nil)

        try channel.writeInbound(wire)
        #expect(try channel.readInbound(as: Frame.self) == frames[2])
        #expect(try channel.finish().isClean)
    }

    /// The encoder and the decoder reuse one arena per connection: frames far larger than
    /// the block it keeps between frames, among small ones, come through whole, and so do
    /// the small ones after them.
    @Test func largeFramesAmongSmallOnesRoundTrip() throws {
        let small = FrameSamples.full.prefix(6).map(\.frame)
        let large = (1...2).map { n in
            Frame(callID: UInt64(100 + n), body: .appendRequest(AppendRequest(streams: [
                StreamAppend(stream: "big-\(n)", events: [
                    ProposedEvent(type: "Big", data: [UInt8](repeating: UInt8(n), count: 300_000)),
                    ProposedEvent(type: "Small", data: [1, 2, 3]),
                ]),
            ])))
        }
        try Self.roundTrip(small + [large[0]] + small + [large[1], large[1]] + small)
    }
}
