internal import Logbook
internal import LogbookCommandLine
internal import Testing

@Suite("JSON")
struct JSONTests {
    @Test(
        "accepts valid JSON",
        arguments: [
            "{}", "[]", "0", "-0.5e+10", "\"a\\u00e9\\n\"", "true", "null",
            " {\"a\": [1, 2, {\"b\": null}], \"c\": \"\\ud83d\\ude00\"} ",
            "1.25E-3", "\"héllo\"",
        ]
    )
    func valid(_ text: String) {
        #expect(JSON.isValid(Array(text.utf8)))
    }

    @Test(
        "refuses what is not JSON",
        arguments: [
            "", "{", "{\"a\"}", "{\"a\":1,}", "[1,]", "01", "1.", "-", "tru", "'a'", "{a:1}",
            "\"tab\there\"", "\"\\x\"", "1 2", "{\"a\":1}}", "NaN", "\"\\u12\"",
        ]
    )
    func invalid(_ text: String) {
        #expect(!JSON.isValid(Array(text.utf8)))
    }

    @Test("refuses invalid UTF-8 and nesting past the limit")
    func limits() {
        #expect(!JSON.isValid([0x22, 0xFF, 0x22]))
        let deep = String(repeating: "[", count: JSONScanner.depthMax + 1) + String(repeating: "]", count: JSONScanner.depthMax + 1)
        #expect(!JSON.isValid(Array(deep.utf8)))
        let fine = String(repeating: "[", count: JSONScanner.depthMax) + String(repeating: "]", count: JSONScanner.depthMax)
        #expect(JSON.isValid(Array(fine.utf8)))
    }

    @Test("compacts whitespace but keeps strings and numbers byte for byte")
    func compact() {
        var out: [UInt8] = []
        JSON.appendCompact(Array("{ \"a b\" : [ 1.50 , \"x \\\" y\" ],\n\t\"c\": 1E3 }".utf8), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"{"a b":[1.50,"x \" y"],"c":1E3}"#)
    }

    @Test("escapes strings")
    func escapes() {
        var out: [UInt8] = []
        JSON.appendString("a\"b\\c\nd\u{01}é", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""a\"b\\c\nd\u0001é""#)
    }

    @Test("decodes escapes and surrogate pairs in strings")
    func decodesStrings() throws {
        var scanner = JSONScanner(Array(#""a\u00e9\ud83d\ude00\/\t""#.utf8))
        #expect(try scanner.scanString() == "aé😀/\t")
    }
}
