internal import Foundation
internal import Testing

@testable internal import LogbookStorage

/// The on-disk metadata encoding round-trips and refuses damaged bytes.
@Suite struct MetadataCodecTests {
    static func decode(_ bytes: [UInt8]) -> [MetadataEntry]? {
        bytes.withUnsafeBytes { MetadataCodec.decode($0) }
    }

    @Test(arguments: [
        [],
        [MetadataEntry(key: "a", value: "")],
        [MetadataEntry(key: "", value: "x"), MetadataEntry(key: "ü\u{1F600}", value: String(repeating: "v", count: 300))],
        (0..<200).map { MetadataEntry(key: "k\($0)", value: "v\($0)") },
    ])
    func roundTrips(entries: [MetadataEntry]) {
        let encoded = [UInt8](MetadataCodec.encode(entries))
        #expect(encoded.isEmpty == entries.isEmpty)
        #expect(Self.decode(encoded) == entries)
    }

    @Test func damagedEncodingsAreRejected() {
        let valid = [UInt8](MetadataCodec.encode([MetadataEntry(key: "key", value: "value")]))
        #expect(Self.decode(valid) != nil)
        #expect(Self.decode(Array(valid.dropLast())) == nil, "truncated")
        #expect(Self.decode(valid + [0]) == nil, "trailing byte")
        #expect(Self.decode([2] + valid.dropFirst()) == nil, "unknown format")
        #expect(Self.decode([1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) == nil, "absurd count")
        #expect(Self.decode([1, 1, 1, 0xC3, 0]) == nil, "invalid UTF-8 key")
        #expect(Self.decode([1, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]) == nil, "over-long varint")
    }
}
