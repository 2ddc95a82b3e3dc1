internal import LogbookServer
internal import LogbookWire
internal import NIOCore

/// Bytes as a client would send them → frames → the Status the server's checks give each
/// request. Any crash, trap or sanitizer report is a finding; so is a frame that does not
/// survive an encode and a decode unchanged.
///
enum FrameFuzz {
    /// Small, so that a length prefix past it is reached too.
    static let frameBytesMax = 1 << 16

    static func run(_ bytes: UnsafeRawBufferPointer) {
        var buffer = ByteBuffer(bytes: bytes)
        let decoder = FrameDecoder(frameBytesMax: Self.frameBytesMax)
        while true {
            let frame: Frame?
            do {
                frame = try decoder.decodeFrame(from: &buffer)
            } catch {
                return  // A refused frame ends the connection: nothing after it is read.
            }
            guard let frame else { return }
            if let body = frame.body {
                let status = RequestCheck.status(of: body)
                precondition(status.code == .ok || !status.message.isEmpty, "a refusal without a reason: \(status)")
            }
            Self.roundTrip(frame, decoder: decoder)
        }
    }

    /// What decoded encodes and decodes back to itself.
    private static func roundTrip(_ frame: Frame, decoder: FrameDecoder) {
        var encoded = ByteBuffer()
        do {
            try FrameEncoder(frameBytesMax: Self.frameBytesMax * 2).encode(data: frame, out: &encoded)
        } catch {
            preconditionFailure("a decoded frame does not encode: \(error)")
        }
        do {
            let again = try FrameDecoder(frameBytesMax: Self.frameBytesMax * 2).decodeFrame(from: &encoded)
            precondition(again == frame, "a frame changed across an encode and a decode: \(frame) → \(String(describing: again))")
        } catch {
            preconditionFailure("a re-encoded frame does not decode: \(error)")
        }
    }
}
