/// JSON text the library writes, and the command-line tool with it: string literals.
///
/// The command-line tool extends this namespace with what only it needs (validating a
/// payload, compacting a document, numbers and object members).
package enum JSON {
    /// Lowercase hexadecimal digits, by value.
    package static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends `string` as a JSON string literal, escaping what JSON requires.
    package static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case UInt8(ascii: "\n"):
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"):
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"):
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(Self.hexDigits[Int(byte >> 4)])
                out.append(Self.hexDigits[Int(byte & 0x0F)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
