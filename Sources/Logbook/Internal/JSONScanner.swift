/// A JSON text that is not valid, and where.
package struct JSONError: Error, Hashable, CustomStringConvertible {
    package var message: String
    /// The byte offset in the input where the problem was found.
    package var offset: Int
    /// True when the text is not JSON; false when it is, but a value in it is not what
    /// the reader expects (the message then says which).
    package var isSyntax: Bool

    package init(_ message: String, at offset: Int, isSyntax: Bool = true) {
        self.message = message
        self.offset = offset
        self.isSyntax = isSyntax
    }

    package var description: String { "\(self.message) at byte \(self.offset + 1)" }
}

/// Walks JSON text, validating as it goes and reporting where values are.
///
/// Not a general JSON library: it never builds a tree of values. It reports the byte range
/// of each value instead, so a reader keeps a value's exact bytes (its number spellings and
/// key order), which a decode/re-encode through a dictionary would not. The library reads
/// query literals with it; the command-line tool reads its JSON Lines input and documents.
package struct JSONScanner {
    /// How deep arrays and objects may nest; deeper input is refused rather than
    /// recursing without bound.
    package static let depthMax = 512

    package let bytes: [UInt8]
    package private(set) var index: Int
    private var depth = 0

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.index = 0
    }

    package var isAtEnd: Bool { self.index >= self.bytes.count }

    private var current: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    package mutating func skipWhitespace() {
        while let byte = self.current,
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
                || byte == UInt8(ascii: "\r")
        {
            self.index += 1
        }
    }

    /// Scans one value and returns the range of its bytes.
    package mutating func scanValue() throws(JSONError) -> Range<Int> {
        let start = self.index
        guard let byte = self.current else {
            throw JSONError("expected a JSON value but the text ended", at: self.index)
        }
        switch byte {
        case UInt8(ascii: "{"):
            _ = try self.scanObject { (scanner: inout JSONScanner, _: String) throws(JSONError) in
                _ = try scanner.scanValue()
            }
        case UInt8(ascii: "["):
            try self.scanArray { (scanner: inout JSONScanner) throws(JSONError) in
                _ = try scanner.scanValue()
            }
        case UInt8(ascii: "\""):
            _ = try self.scanString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try self.scanNumber()
        case UInt8(ascii: "t"):
            try self.scanLiteral("true")
        case UInt8(ascii: "f"):
            try self.scanLiteral("false")
        case UInt8(ascii: "n"):
            try self.scanLiteral("null")
        default:
            throw JSONError("unexpected character '\(Self.printable(byte))'", at: self.index)
        }
        return start..<self.index
    }

    /// Scans an object, calling `member` with each key while the scanner stands at the
    /// member's value, which `member` must scan.
    package mutating func scanObject(
        _ member: (inout JSONScanner, String) throws(JSONError) -> Void
    ) throws(JSONError) {
        try self.scanContainer(closing: UInt8(ascii: "}"), name: "an object") { (scanner: inout JSONScanner) throws(JSONError) in
            guard scanner.current == UInt8(ascii: "\"") else {
                throw JSONError("expected a string key in an object", at: scanner.index)
            }
            let key = try scanner.scanString()
            scanner.skipWhitespace()
            guard scanner.current == UInt8(ascii: ":") else {
                throw JSONError("expected ':' after an object key", at: scanner.index)
            }
            scanner.index += 1
            scanner.skipWhitespace()
            try member(&scanner, key)
        }
    }

    /// Scans an array, calling `element` while the scanner stands at each element, which
    /// `element` must scan.
    package mutating func scanArray(_ element: (inout JSONScanner) throws(JSONError) -> Void) throws(JSONError) {
        try self.scanContainer(closing: UInt8(ascii: "]"), name: "an array", element)
    }

    /// Scans an object or an array, whose opening byte the scanner stands at: `item` scans
    /// each member or element, and commas separate them up to `closing`.
    private mutating func scanContainer(
        closing: UInt8,
        name: String,
        _ item: (inout JSONScanner) throws(JSONError) -> Void
    ) throws(JSONError) {
        try self.enter()
        self.index += 1  // { or [
        self.skipWhitespace()
        if self.current == closing {
            self.index += 1
            self.depth -= 1
            return
        }
        while true {
            self.skipWhitespace()
            try item(&self)
            self.skipWhitespace()
            switch self.current {
            case UInt8(ascii: ",")?:
                self.index += 1
            case closing?:
                self.index += 1
                self.depth -= 1
                return
            default:
                throw JSONError("expected ',' or '\(Character(Unicode.Scalar(closing)))' in \(name)", at: self.index)
            }
        }
    }

    private mutating func enter() throws(JSONError) {
        self.depth += 1
        guard self.depth <= Self.depthMax else {
            throw JSONError("arrays and objects nest deeper than \(Self.depthMax) levels", at: self.index)
        }
    }

    /// Scans a string literal and returns its decoded value.
    package mutating func scanString() throws(JSONError) -> String {
        let start = self.index
        self.index += 1  // "
        var scalars = String.UnicodeScalarView()
        var runStart = self.index
        var pendingHighSurrogate: UInt32?

        func flushRun(_ scanner: JSONScanner, upTo end: Int, into scalars: inout String.UnicodeScalarView) {
            if runStart < end {
                scalars.append(contentsOf: String(decoding: scanner.bytes[runStart..<end], as: UTF8.self).unicodeScalars)
            }
        }

        while true {
            guard let byte = self.current else {
                throw JSONError("a string is not closed", at: start)
            }
            switch byte {
            case UInt8(ascii: "\""):
                flushRun(self, upTo: self.index, into: &scalars)
                if pendingHighSurrogate != nil { scalars.append("\u{FFFD}") }
                self.index += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                flushRun(self, upTo: self.index, into: &scalars)
                self.index += 1
                guard let escape = self.current else {
                    throw JSONError("a string is not closed", at: start)
                }
                self.index += 1
                var decoded: UInt32
                switch escape {
                case UInt8(ascii: "\""): decoded = 0x22
                case UInt8(ascii: "\\"): decoded = 0x5C
                case UInt8(ascii: "/"): decoded = 0x2F
                case UInt8(ascii: "b"): decoded = 0x08
                case UInt8(ascii: "f"): decoded = 0x0C
                case UInt8(ascii: "n"): decoded = 0x0A
                case UInt8(ascii: "r"): decoded = 0x0D
                case UInt8(ascii: "t"): decoded = 0x09
                case UInt8(ascii: "u"):
                    decoded = try self.scanHex4()
                default:
                    throw JSONError("unknown escape '\\\(Self.printable(escape))' in a string", at: self.index - 2)
                }
                if let high = pendingHighSurrogate {
                    pendingHighSurrogate = nil
                    if (0xDC00...0xDFFF).contains(decoded) {
                        let combined = 0x10000 + ((high - 0xD800) << 10) + (decoded - 0xDC00)
                        scalars.append(Unicode.Scalar(combined) ?? "\u{FFFD}")
                        runStart = self.index
                        continue
                    }
                    scalars.append("\u{FFFD}")
                }
                if (0xD800...0xDBFF).contains(decoded) {
                    pendingHighSurrogate = decoded
                } else {
                    scalars.append(Unicode.Scalar(decoded) ?? "\u{FFFD}")
                }
                runStart = self.index
            case 0..<0x20:
                throw JSONError("a control character must be escaped in a string", at: self.index)
            default:
                if pendingHighSurrogate != nil {
                    pendingHighSurrogate = nil
                    scalars.append("\u{FFFD}")
                }
                self.index += 1
            }
        }
    }

    private mutating func scanHex4() throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = self.current else {
                throw JSONError("a \\u escape needs four hex digits", at: self.index)
            }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONError("a \\u escape needs four hex digits", at: self.index)
            }
            value = value << 4 | UInt32(digit)
            self.index += 1
        }
        return value
    }

    private mutating func scanNumber() throws(JSONError) {
        let start = self.index
        if self.current == UInt8(ascii: "-") { self.index += 1 }
        switch self.current {
        case UInt8(ascii: "0")?:
            self.index += 1
        case let byte? where byte >= UInt8(ascii: "1") && byte <= UInt8(ascii: "9"):
            self.skipDigits()
        default:
            throw JSONError("a number needs digits", at: start)
        }
        if self.current == UInt8(ascii: ".") {
            self.index += 1
            guard self.skipDigits() > 0 else {
                throw JSONError("a number needs digits after '.'", at: self.index)
            }
        }
        if self.current == UInt8(ascii: "e") || self.current == UInt8(ascii: "E") {
            self.index += 1
            if self.current == UInt8(ascii: "+") || self.current == UInt8(ascii: "-") { self.index += 1 }
            guard self.skipDigits() > 0 else {
                throw JSONError("a number needs digits in its exponent", at: self.index)
            }
        }
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = self.index
        while let byte = self.current, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
            self.index += 1
        }
        return self.index - start
    }

    private mutating func scanLiteral(_ literal: StaticString) throws(JSONError) {
        let start = self.index
        let count = literal.utf8CodeUnitCount
        guard self.index + count <= self.bytes.count else {
            throw JSONError("unexpected end of text", at: start)
        }
        for offset in 0..<count where self.bytes[start + offset] != literal.utf8Start[offset] {
            throw JSONError("unexpected character '\(Self.printable(self.bytes[start + offset]))'", at: start + offset)
        }
        self.index += count
    }

    private static func printable(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }
}
