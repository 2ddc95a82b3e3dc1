package import NIOCore

/// Turns bytes from the socket into `Frame`s.
///
/// The declared length is checked against `frameBytesMax` as soon as its four bytes are
/// here, before any of the payload is waited for, so a peer cannot make us hold more than
/// one limit's worth of bytes (grpc-swift-nio-transport's GRPCMessageDecoder does the same).
package struct FrameDecoder: ByteToMessageDecoder {
    package typealias InboundOut = Frame

    /// Fired (as a user inbound event) instead of an error for a frame that is well formed
    /// but refused, when the decoder was made with `refusesCallsIndividually`: the frame is
    /// skipped and the connection goes on.
    package struct RefusedFrame: Sendable {
        package var callID: UInt64
        package var error: WireError
    }

    private let frameBytesMax: Int
    private let refusesCallsIndividually: Bool
    /// Reused for every frame of the connection (`Arena.reset`).
    private let arena = Arena()

    /// - Parameter refusesCallsIndividually: report a refused frame that names a call as a
    ///   `RefusedFrame` event rather than an error that ends the connection (the server, so
    ///   one bad request does not cost a client its other calls).
    package init(frameBytesMax: Int, refusesCallsIndividually: Bool = false) {
        self.frameBytesMax = frameBytesMax
        self.refusesCallsIndividually = refusesCallsIndividually
    }

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let decoded: Frame?
        do {
            decoded = try self.decodeFrame(from: &buffer)
        } catch {
            guard self.refusesCallsIndividually, let callID = error.callID, callID != 0 else { throw error }
            context.fireUserInboundEventTriggered(RefusedFrame(callID: callID, error: error))
            return .continue
        }
        guard let frame = decoded else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    package mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while let frame = try self.decodeFrame(from: &buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
        }
        if seenEOF, buffer.readableBytes > 0 {
            let pending = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: pending)
            throw WireError(code: .invalidArgument, message: "connection closed inside a frame (\(pending) bytes pending)")
        }
        return .needMoreData
    }

    /// One whole frame from the front of `buffer`, or nil when more bytes are needed.
    package func decodeFrame(from buffer: inout ByteBuffer) throws(WireError) -> Frame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length <= self.frameBytesMax else {
            throw WireError(
                code: .resourceExhausted,
                message: "frame of \(length) bytes is larger than the limit of \(self.frameBytesMax) bytes"
            )
        }
        let total = Frame.lengthPrefixBytes + Int(length)
        guard buffer.readableBytes >= total,
            let payload = buffer.getSlice(at: buffer.readerIndex + Frame.lengthPrefixBytes, length: Int(length))
        else { return nil }
        buffer.moveReaderIndex(forwardBy: total)
        return try Frame.decode(payload: payload, using: self.arena)
    }
}

/// Writes `Frame`s to the socket with their length prefix.
package struct FrameEncoder: MessageToByteEncoder {
    package typealias OutboundIn = Frame

    private let frameBytesMax: Int
    /// Reused for every frame of the connection (`Arena.reset`).
    private let arena = Arena()

    package init(frameBytesMax: Int) {
        self.frameBytesMax = frameBytesMax
    }

    package func encode(data: Frame, out: inout ByteBuffer) throws {
        try data.encode(into: &out, frameBytesMax: self.frameBytesMax, using: self.arena)
    }
}
