package import Foundation

/// The compact on-disk form of an event's metadata.
///
/// No metadata (the common case) is an empty blob. Otherwise:
///
/// | field | size | value |
/// | --- | --- | --- |
/// | format | 1 byte | `0x01` |
/// | count | varint | number of entries |
/// | key length | varint | bytes of the key (repeated `count` times, with the next three) |
/// | key | key length | UTF-8 |
/// | value length | varint | bytes of the value |
/// | value | value length | UTF-8 |
///
/// Varints are unsigned LEB128 of at most 5 bytes. Decoding checks every length against
/// the bytes left, the UTF-8 and that nothing trails, so a damaged row is reported as
/// corrupt instead of being misread.
package enum MetadataCodec {
    static let formatVersion: UInt8 = 1

    package static func encode(_ entries: [MetadataEntry]) -> Data {
        guard !entries.isEmpty else { return Data() }
        var size = 6
        for entry in entries {
            size += entry.key.utf8.count + entry.value.utf8.count + 10
        }
        var output = Data(capacity: size)
        output.append(formatVersion)
        appendVarint(UInt32(truncatingIfNeeded: entries.count), to: &output)
        for entry in entries {
            appendString(entry.key, to: &output)
            appendString(entry.value, to: &output)
        }
        return output
    }

    /// Nil when the bytes are not a well-formed encoding.
    package static func decode(_ bytes: UnsafeRawBufferPointer) -> [MetadataEntry]? {
        guard !bytes.isEmpty else { return [] }
        var reader = Reader(bytes: bytes)
        guard reader.readByte() == formatVersion, let count = reader.readVarint() else { return nil }
        // Each entry takes at least two bytes, so a count beyond that is damage, and
        // checking it first keeps a damaged count from reserving huge memory.
        guard Int(count) <= reader.remaining / 2 else { return nil }
        var entries = [MetadataEntry]()
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let key = reader.readString(), let value = reader.readString() else { return nil }
            entries.append(MetadataEntry(key: key, value: value))
        }
        return reader.remaining == 0 ? entries : nil
    }

    private static func appendString(_ string: String, to output: inout Data) {
        let utf8 = string.utf8
        appendVarint(UInt32(truncatingIfNeeded: utf8.count), to: &output)
        output.append(contentsOf: utf8)
    }

    private static func appendVarint(_ value: UInt32, to output: inout Data) {
        var value = value
        while value >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        output.append(UInt8(value))
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        var remaining: Int { bytes.count - offset }

        mutating func readByte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func readVarint() -> UInt32? {
            var result: UInt32 = 0
            for shift in stride(from: 0, to: 35, by: 7) {
                guard let byte = readByte() else { return nil }
                let bits = UInt32(byte & 0x7F)
                guard shift < 28 || bits < 0x10 else { return nil }
                result |= bits << UInt32(shift)
                if byte & 0x80 == 0 { return result }
            }
            return nil
        }

        mutating func readString() -> String? {
            guard let length = readVarint(), Int(length) <= remaining else { return nil }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(length))])
            offset += Int(length)
            return String(validatingUTF8: slice)
        }
    }
}
