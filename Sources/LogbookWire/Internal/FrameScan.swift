internal import CProtobufC

/// A walk over a frame's wire bytes, before protobuf-c unpacks them, for what protobuf-c
/// does not check.
///
/// - A string holding a NUL byte: protobuf-c keeps strings NUL-terminated and would hand it
///   over cut short, with nothing in the decoded message to show it.
/// - How many sub-messages the frame holds: protobuf-c allocates a struct for each, so a
///   16 MiB frame of empty sub-messages would cost hundreds of MiB to unpack.
///
/// The walk uses protobuf-c's own message descriptors to know which fields are strings and
/// which are messages. The protos hold no recursive message, so the depth is bounded.
struct FrameScan {
    enum Verdict: Equatable {
        case ok
        case malformed
        case nulInString
        case tooManyMessages
    }

    /// Sub-messages one frame may hold: 10,000 events with their metadata fit with room.
    static let messagesMax = 1 << 20

    private var messages = 0

    static func scan(_ bytes: UnsafeRawBufferPointer, descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> Verdict {
        var scan = FrameScan()
        return scan.walk(bytes, descriptor: descriptor)
    }

    private mutating func walk(_ message: UnsafeRawBufferPointer, descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> Verdict {
        var offset = 0
        while offset < message.count {
            guard let tag = Self.readVarint(message, at: &offset) else { return .malformed }
            switch tag & 7 {
            case 0:
                guard Self.readVarint(message, at: &offset) != nil else { return .malformed }
            case 1:
                offset += 8
            case 5:
                offset += 4
            case 2:
                guard let length = Self.readVarint(message, at: &offset), length <= UInt64(message.count - offset) else {
                    return .malformed
                }
                let value = UnsafeRawBufferPointer(rebasing: message[offset..<offset + Int(length)])
                offset += Int(length)
                guard let fieldNumber = UInt32(exactly: tag >> 3),
                    let field = protobuf_c_message_descriptor_get_field(descriptor, fieldNumber)
                else {
                    continue  // An unknown field: nothing decodes it.
                }
                switch field.pointee.type {
                case PROTOBUF_C_TYPE_STRING:
                    if value.holdsNUL { return .nulInString }
                case PROTOBUF_C_TYPE_MESSAGE:
                    self.messages += 1
                    guard self.messages <= Self.messagesMax else { return .tooManyMessages }
                    guard let child = field.pointee.descriptor?.assumingMemoryBound(to: ProtobufCMessageDescriptor.self) else {
                        return .malformed
                    }
                    let verdict = self.walk(value, descriptor: child)
                    guard verdict == .ok else { return verdict }
                default:
                    break
                }
            default:
                return .malformed
            }
        }
        return offset == message.count ? .ok : .malformed
    }

    /// A base-128 varint at `offset`, which moves past it; nil when cut short or over 10 bytes.
    private static func readVarint(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 70 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                return value
            }
            shift += 7
        }
        return nil
    }
}
