@testable internal import LogbookStorage
internal import Testing

/// CRC32C against published vectors, on both code paths.
@Suite struct CRC32CTests {
    /// RFC 3720 (iSCSI) appendix B.4, plus the classic check value of "123456789".
    static let vectors: [(name: String, bytes: [UInt8], crc: UInt32)] = [
        ("32 bytes of zeros", [UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ("32 bytes of 0xFF", [UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ("32 incrementing bytes", (0..<32).map { UInt8($0) }, 0x46DD_794E),
        ("32 decrementing bytes", (0..<32).reversed().map { UInt8($0) }, 0x113F_DB5C),
        (
            "an iSCSI read command",
            [
                0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
                0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            ],
            0xD996_3A56
        ),
        ("123456789", Array("123456789".utf8), 0xE306_9283),
        ("nothing", [], 0),
    ]

    @Test(arguments: CRC32C.Implementation.allCases)
    func publishedVectors(implementation: CRC32C.Implementation) {
        for vector in Self.vectors {
            #expect(CRC32C.checksum(vector.bytes, implementation: implementation) == vector.crc, "\(vector.name)")
        }
    }

    /// Checksumming in pieces gives the checksum of the whole.
    @Test(arguments: CRC32C.Implementation.allCases)
    func extendingIsConcatenation(implementation: CRC32C.Implementation) {
        let bytes = Array("123456789".utf8)
        for split in 0...bytes.count {
            let first = CRC32C.checksum(bytes[..<split], implementation: implementation)
            #expect(CRC32C.checksum(bytes[split...], extending: first, implementation: implementation) == 0xE306_9283)
        }
    }

    /// Both paths agree on every length and alignment around the 8-byte steps.
    @Test func hardwareAndSoftwareAgree() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4_200).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for start in 0..<9 {
            for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200, 1_000, 4_096] {
                let slice = bytes[start..<(start + length)]
                #expect(
                    CRC32C.checksum(slice, implementation: .automatic) == CRC32C.checksum(slice, implementation: .software),
                    "start \(start), length \(length)")
            }
        }
    }

    /// The machine this runs on is x86-64 with SSE4.2, so `.automatic` really is the
    /// instruction and the two paths above are really two.
    @Test func theHardwarePathIsTheOneInUse() {
        #if arch(x86_64)
        #expect(CRC32C.hardwareAvailable)
        #endif
    }
}
