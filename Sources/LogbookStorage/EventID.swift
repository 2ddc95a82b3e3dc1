/// A 16-byte event id (a UUID), unique across the whole log.
///
/// Held as two big-endian halves rather than an array so that ids hash, compare and
/// travel through the append path without a heap allocation each.
package struct EventID: Hashable, Sendable, CustomStringConvertible {
    /// Bytes 0–7, most significant first.
    package var high: UInt64
    /// Bytes 8–15, most significant first.
    package var low: UInt64

    package init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Nil unless exactly 16 bytes are given.
    package init?(bytes: [UInt8]) {
        self.init(byteSequence: bytes)
    }

    /// Nil unless exactly 16 bytes are given.
    init?(byteSequence bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        // Contiguous bytes (an array, SQLite's `Data`) load as two words: stepping through
        // `Data` a byte at a time was a twentieth of the CPU of a read.
        if let id = bytes.withContiguousStorageIfAvailable({ Self(bigEndian: UnsafeRawBufferPointer($0)) }) {
            self = id
            return
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 {
                high = high << 8 | UInt64(byte)
            } else {
                low = low << 8 | UInt64(byte)
            }
        }
        self.init(high: high, low: low)
    }

    /// The id held big-endian in the 16 bytes of `raw`.
    init(bigEndian raw: UnsafeRawBufferPointer) {
        self.init(
            high: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// Parses the canonical `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` form, either case.
    package init?(uuidString: String) {
        let utf8 = uuidString.utf8
        guard utf8.count == 36 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var nibbles = 0
        for (offset, character) in utf8.enumerated() {
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard character == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let nibble = Self.hexValue(character) else { return nil }
            if nibbles < 16 {
                high = high << 4 | UInt64(nibble)
            } else {
                low = low << 4 | UInt64(nibble)
            }
            nibbles += 1
        }
        self.init(high: high, low: low)
    }

    package var bytes: [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) {
            result.append(UInt8(truncatingIfNeeded: high >> UInt64(shift)))
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            result.append(UInt8(truncatingIfNeeded: low >> UInt64(shift)))
        }
        return result
    }

    /// Lowercase canonical form.
    package var uuidString: String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            var written = 0
            for nibbleIndex in 0..<32 {
                if nibbleIndex == 8 || nibbleIndex == 12 || nibbleIndex == 16 || nibbleIndex == 20 {
                    buffer[written] = UInt8(ascii: "-")
                    written += 1
                }
                let half = nibbleIndex < 16 ? high : low
                let shift = UInt64(60 - (nibbleIndex % 16) * 4)
                buffer[written] = Self.hexDigits[Int((half >> shift) & 0xF)]
                written += 1
            }
            return written
        }
    }

    package var description: String { uuidString }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
