package import NIOCore
internal import CProtobufC
internal import CLogbookProto

/// Encoding and decoding of one `Frame` as it travels on the socket.
///
/// ```
/// +----------------------+---------------------------------+
/// | length L (4 bytes,   | L bytes: one logbook.v1.Frame    |
/// | unsigned big-endian) | (protobuf, canonical encoding)   |
/// +----------------------+---------------------------------+
/// ```
extension Frame {
    /// The size of the length prefix in front of every frame.
    package static let lengthPrefixBytes = 4

    /// Appends the length prefix and the encoded frame to `buffer`.
    ///
    /// Fails with `RESOURCE_EXHAUSTED` when the encoded frame is larger than `frameBytesMax`
    /// (the peer's announced limit), before anything is written.
    package func encode(into buffer: inout ByteBuffer, frameBytesMax: Int = Int(UInt32.max)) throws(WireError) {
        let arena = Arena()
        let message = try self.cMessage(in: arena)
        try withExtendedLifetime(arena) { () throws(WireError) in
            let size = logbook__v1__frame__get_packed_size(message)
            guard size <= frameBytesMax else {
                throw WireError(
                    code: .resourceExhausted,
                    message: "frame of \(size) bytes is larger than the limit of \(frameBytesMax) bytes"
                )
            }
            buffer.reserveCapacity(minimumWritableBytes: Self.lengthPrefixBytes + size)
            buffer.writeInteger(UInt32(size))
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { bytes in
                logbook__v1__frame__pack(message, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
            }
        }
    }

    /// Decodes one frame's payload (without its length prefix).
    ///
    /// protobuf-c accepts a string holding a NUL byte and hands it over cut short (it keeps
    /// strings NUL-terminated). Re-measuring the decoded message catches that: a canonical
    /// encoding, which every protobuf library writes, measures exactly the bytes received,
    /// and a string cut short measures less.
    package static func decode(payload: UnsafeRawBufferPointer) throws(WireError) -> Frame {
        let arena = Arena(capacity: payload.count * 2 + 512)
        var allocator = arena.allocator
        let decoded = logbook__v1__frame__unpack(
            &allocator,
            payload.count,
            payload.baseAddress?.assumingMemoryBound(to: UInt8.self)
        )
        guard let decoded else {
            throw WireError(code: .invalidArgument, message: "frame of \(payload.count) bytes is not a valid logbook.v1.Frame")
        }
        return try withExtendedLifetime(arena) { () throws(WireError) -> Frame in
            guard logbook__v1__frame__get_packed_size(decoded) == payload.count else {
                throw WireError(
                    code: .invalidArgument,
                    message: "frame is not in canonical protobuf encoding or a string in it holds a NUL character"
                )
            }
            return try Frame(cMessage: decoded)
        }
    }

    /// Decodes a payload held in a `ByteBuffer` (all its readable bytes).
    package static func decode(payload: ByteBuffer) throws(WireError) -> Frame {
        do {
            return try payload.withUnsafeReadableBytes { bytes in try Frame.decode(payload: bytes) }
        } catch let error as WireError {
            throw error
        } catch {
            throw WireError(code: .internal, message: "\(error)")
        }
    }
}
