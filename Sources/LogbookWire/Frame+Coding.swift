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
        try self.encode(into: &buffer, frameBytesMax: frameBytesMax, using: Arena())
    }

    /// The same, building the C message in `arena`, which is reset afterwards for the next
    /// frame (an encoder keeps one per connection).
    func encode(into buffer: inout ByteBuffer, frameBytesMax: Int, using arena: Arena) throws(WireError) {
        defer { arena.reset() }
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
    /// `FrameScan` first walks the bytes for what protobuf-c does not check (a NUL inside a
    /// string, a flood of sub-messages); protobuf-c then unpacks into an arena, and the
    /// generated mapping checks every string is UTF-8 as it builds the Swift value.
    ///
    /// A frame that is well formed but holds a value the protocol forbids (a NUL or invalid
    /// UTF-8 in a string, an unknown enum value) throws with `callID` set, so a receiver can
    /// refuse that one call and keep the connection.
    package static func decode(payload: UnsafeRawBufferPointer) throws(WireError) -> Frame {
        try self.decode(payload: payload, using: Arena(capacity: payload.count * 2 + 512))
    }

    /// The same, unpacking into `arena`, which is reset afterwards for the next frame (a
    /// decoder keeps one per connection): the Swift value copies out all it needs.
    static func decode(payload: UnsafeRawBufferPointer, using arena: Arena) throws(WireError) -> Frame {
        defer { arena.reset() }
        let scan = FrameScan.scan(payload, descriptor: Frame.descriptor)
        switch scan {
        case .ok, .nulInString:
            break
        case .malformed:
            throw WireError(code: .invalidArgument, message: "frame of \(payload.count) bytes is not a valid logbook.v1.Frame")
        case .tooManyMessages:
            throw WireError(code: .resourceExhausted, message: "frame holds more than \(FrameScan.messagesMax) messages")
        }
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
            let callID = decoded.pointee.call_id
            guard scan != .nulInString else {
                throw WireError(code: .invalidArgument, message: "a string in the frame holds a NUL character", callID: callID)
            }
            do {
                return try Frame(cMessage: decoded)
            } catch let error as WireError {
                throw WireError(code: error.code, message: error.message, callID: callID)
            } catch {
                throw WireError(code: .internal, message: "\(error)", callID: callID)
            }
        }
    }

    /// protoc-c's descriptor of `logbook.v1.Frame`, read off an initialised struct: Swift
    /// imports the descriptor global as a constant it will not take the address of.
    private static var descriptor: UnsafePointer<ProtobufCMessageDescriptor> {
        var frame = Logbook__V1__Frame()
        logbook__v1__frame__init(&frame)
        return frame.base.descriptor
    }

    /// Decodes a payload held in a `ByteBuffer` (all its readable bytes).
    package static func decode(payload: ByteBuffer) throws(WireError) -> Frame {
        try self.decode(payload: payload, using: Arena(capacity: payload.readableBytes * 2 + 512))
    }

    /// The same, unpacking into `arena` (see `decode(payload:using:)`).
    static func decode(payload: ByteBuffer, using arena: Arena) throws(WireError) -> Frame {
        do {
            return try payload.withUnsafeReadableBytes { bytes in try Frame.decode(payload: bytes, using: arena) }
        } catch let error as WireError {
            throw error
        } catch {
            throw WireError(code: .internal, message: "\(error)")
        }
    }
}
