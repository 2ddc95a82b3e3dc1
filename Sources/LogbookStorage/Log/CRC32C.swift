internal import CLogbookCRC

/// CRC32C (Castagnoli), the checksum of every record, segment header and index file.
///
/// The SSE4.2 instruction computes this polynomial (and no other CRC32), so checking a
/// 200-byte record costs tens of nanoseconds. `extending` continues a checksum over
/// bytes that are not contiguous: `checksum(b, extending: checksum(a))` is the checksum
/// of `a` followed by `b`.
package enum CRC32C {
    /// Which code computes it; tests force `.software` to check the fallback too.
    package enum Implementation: Sendable, CaseIterable {
        /// SSE4.2 when the CPU has it, else the table.
        case automatic
        case software
    }

    /// True when this CPU has the `crc32` instruction.
    static var hardwareAvailable: Bool { logbook_crc32c_hardware_available() }

    package static func checksum(
        _ bytes: UnsafeRawBufferPointer,
        extending crc: UInt32 = 0,
        implementation: Implementation = .automatic
    ) -> UInt32 {
        switch implementation {
        case .automatic: logbook_crc32c(crc, bytes.baseAddress, bytes.count)
        case .software: logbook_crc32c_software(crc, bytes.baseAddress, bytes.count)
        }
    }

    package static func checksum(
        _ bytes: some Sequence<UInt8>,
        extending crc: UInt32 = 0,
        implementation: Implementation = .automatic
    ) -> UInt32 {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            checksum(UnsafeRawBufferPointer(buffer), extending: crc, implementation: implementation)
        }
        if let contiguous { return contiguous }
        return Array(bytes).withUnsafeBytes { checksum($0, extending: crc, implementation: implementation) }
    }
}
