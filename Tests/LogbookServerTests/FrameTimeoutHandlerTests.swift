internal import LogbookWire
internal import NIOCore
internal import NIOEmbedded
internal import Testing

@testable internal import LogbookServer

@Suite("Partial frame timeout")
struct FrameTimeoutHandlerTests {
    private func channel() throws -> (EmbeddedChannel, EmbeddedEventLoop) {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handler: FrameTimeoutHandler(timeout: .seconds(30)), loop: loop)
        try channel.connect(to: SocketAddress(unixDomainSocketPath: "/tmp/x")).wait()
        return (channel, loop)
    }

    private func frameBytes(_ frame: Frame) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try frame.encode(into: &buffer)
        return buffer
    }

    @Test func aStalledFrameClosesTheConnectionWithAStatus() throws {
        let (channel, loop) = try self.channel()
        var whole = try self.frameBytes(Frame(callID: 0, body: .hello(Hello(protocolVersion: 1, clientName: "stall"))))
        let half = whole.readSlice(length: 6)!
        try channel.writeInbound(half)
        loop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(2))
        let status = try #require(try channel.readOutbound(as: Frame.self))
        guard case .status(let sent) = status.body else {
            Issue.record("expected a Status, got \(status)")
            return
        }
        #expect(sent.code == .deadlineExceeded)
        #expect(!channel.isActive)
    }

    @Test func wholeFramesInAnyChunkingNeverTimeOut() throws {
        let (channel, loop) = try self.channel()
        var bytes = ByteBuffer()
        for index in 0..<5 {
            bytes.writeImmutableBuffer(try self.frameBytes(Frame(callID: UInt64(index), body: .cancel(Cancel()))))
        }
        let total = bytes.readableBytes
        // One byte a second, then two idle minutes: the timer runs only
        // while a frame is incomplete.
        while let byte = bytes.readSlice(length: 1) {
            try channel.writeInbound(byte)
            loop.advanceTime(by: .seconds(1))
        }
        loop.advanceTime(by: .seconds(120))
        #expect(channel.isActive)
        #expect(try channel.readOutbound(as: Frame.self) == nil)
        var forwarded = 0
        while let chunk = try channel.readInbound(as: ByteBuffer.self) {
            forwarded += chunk.readableBytes
        }
        #expect(forwarded == total, "every byte passes through")
        _ = try channel.finish()
    }
}
