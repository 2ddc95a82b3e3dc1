package import Logbook

/// What the command-line tool adds to the library's `JSON`: validating a payload, and
/// writing compact output one member at a time.
///
/// Objects are written straight into the output buffer (no tree of values, no encoder):
/// the read path prints one per event.
extension JSON {
    /// Checks that `bytes` hold exactly one JSON value (whitespace around it allowed),
    /// in valid UTF-8.
    package static func validate(_ bytes: [UInt8]) throws(JSONError) {
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        _ = try scanner.scanValue()
        scanner.skipWhitespace()
        guard scanner.isAtEnd else {
            throw JSONError("unexpected text after the JSON value", at: scanner.index)
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw JSONError("the text is not valid UTF-8", at: 0)
        }
    }

    /// Whether `bytes` hold exactly one valid JSON value.
    package static func isValid(_ bytes: [UInt8]) -> Bool {
        do {
            try self.validate(bytes)
            return true
        } catch {
            return false
        }
    }

    /// Appends a valid JSON value without its insignificant whitespace (so that it fits on
    /// one line); strings and numbers are copied byte for byte.
    package static func appendCompact(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    continue
                case UInt8(ascii: "\""):
                    inString = true
                    out.append(byte)
                default:
                    out.append(byte)
                }
            }
        }
    }

    /// Appends an integer in decimal.
    package static func appendInteger(_ value: some BinaryInteger, to out: inout [UInt8]) {
        out.append(contentsOf: String(value).utf8)
    }

    /// Appends `"name":`, after a comma unless it is the first member of the object just
    /// opened (the byte before it is that object's `{`). The caller appends the value.
    package static func appendKey(_ name: String, to out: inout [UInt8]) {
        if out.last != UInt8(ascii: "{") {
            out.append(UInt8(ascii: ","))
        }
        self.appendString(name, to: &out)
        out.append(UInt8(ascii: ":"))
    }

    /// Appends a member whose value is a string, or `null` for nil.
    package static func appendMember(_ name: String, _ value: String?, to out: inout [UInt8]) {
        self.appendKey(name, to: &out)
        if let value {
            self.appendString(value, to: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
    }

    /// Appends a member whose value is an integer.
    package static func appendMember(_ name: String, _ value: some BinaryInteger, to out: inout [UInt8]) {
        self.appendKey(name, to: &out)
        self.appendInteger(value, to: &out)
    }

    /// Appends a member whose value is an array of strings.
    package static func appendMember(_ name: String, _ values: [String], to out: inout [UInt8]) {
        self.appendKey(name, to: &out)
        self.appendArray(values, to: &out) { self.appendString($0, to: &$1) }
    }

    /// Appends `[…]`, each element as `element` writes it.
    package static func appendArray<Element>(
        _ elements: some Sequence<Element>,
        to out: inout [UInt8],
        element: (Element, inout [UInt8]) -> Void
    ) {
        out.append(UInt8(ascii: "["))
        for (index, value) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            element(value, &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// One value as a line of text (without the newline), as `write` appends it.
    package static func line(_ write: (inout [UInt8]) -> Void) -> String {
        var out: [UInt8] = []
        write(&out)
        return String(decoding: out, as: UTF8.self)
    }
}
