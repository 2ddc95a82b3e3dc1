internal import LogbookCommandLine
internal import Testing

@Suite("RFC 3339 times")
struct RFC3339Tests {
    @Test("RFC 3339 times parse to Unix microseconds", arguments: [
        ("1970-01-01T00:00:00Z", 0 as Int64),
        ("2024-05-01T12:34:56.789012Z", 1_714_566_896_789_012),
        ("2024-05-01T12:34:56.7Z", 1_714_566_896_700_000),
        ("2024-05-01T12:34:56.789012345Z", 1_714_566_896_789_012),
        ("2024-05-01t12:34:56z", 1_714_566_896_000_000),
        ("2024-05-01 14:34:56+02:00", 1_714_566_896_000_000),
        ("2024-05-01T07:04:56-05:30", 1_714_566_896_000_000),
        ("2000-02-29T00:00:00Z", 951_782_400_000_000),
    ])
    func rfc3339(text: String, micros: Int64) {
        #expect(RFC3339.parse(text) == micros)
    }

    @Test("malformed times are refused, and printed times parse back")
    func rfc3339Malformed() {
        for bad in ["", "2024-05-01", "2024-05-01T12:34Z", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-05-01T12:34:56",
                    "2024-05-01T12:34:56.Z", "2024-05-01T12:34:56+0200", "2024-05-01T25:00:00Z", "yesterday"] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
        for micros: Int64 in [0, 1, 1_714_566_896_789_012, 4_102_444_800_000_000] {
            #expect(RFC3339.parse(RFC3339.string(unixMicros: micros)) == micros)
        }
    }
}
