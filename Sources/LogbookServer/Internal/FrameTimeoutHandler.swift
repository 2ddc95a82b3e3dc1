internal import LogbookWire
internal import NIOCore

/// Closes a connection whose peer starts a frame and does not finish it in time.
///
/// Sits in front of the frame decoder and follows frame boundaries in the raw bytes (the
/// 4-byte length, then that many payload bytes) without buffering anything. A client that
/// sends half a frame and stalls would otherwise hold its partial buffer forever.
final class FrameTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var lengthBytesSeen = 0
    private var length: UInt32 = 0
    private var payloadRemaining = 0
    private var timer: Scheduled<Void>?

    init(timeout: Duration) {
        self.timeout = TimeAmount(timeout)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        self.advance(over: buffer)
        if self.isInsideFrame {
            if self.timer == nil {
                let channel = context.channel
                let timeout = self.timeout
                self.timer = context.eventLoop.scheduleTask(in: timeout) {
                    ConnectionHandler.refuse(channel, status: Status(
                        code: .deadlineExceeded,
                        message: "a frame was started but not completed within \(timeout)"
                    ))
                }
            }
        } else {
            self.timer?.cancel()
            self.timer = nil
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        context.fireChannelInactive()
    }

    private var isInsideFrame: Bool {
        self.lengthBytesSeen > 0 || self.payloadRemaining > 0
    }

    private func advance(over buffer: ByteBuffer) {
        let bytes = buffer.readableBytesView
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if self.payloadRemaining > 0 {
                let step = min(self.payloadRemaining, bytes.endIndex - index)
                self.payloadRemaining -= step
                index += step
                continue
            }
            self.length = self.length << 8 | UInt32(bytes[index])
            self.lengthBytesSeen += 1
            index += 1
            if self.lengthBytesSeen == Frame.lengthPrefixBytes {
                self.payloadRemaining = Int(self.length)
                self.lengthBytesSeen = 0
                self.length = 0
            }
        }
    }
}
