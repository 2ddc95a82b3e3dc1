/// A JSON scalar a query compares documents with: a number, a string, a bool or null.
///
/// Literals make one without writing JSON by hand: `"paid"`, `42`, `9.5`, `true`, `nil`.
/// The server compares values as SQLite's JSON functions see them, so `1` and `1.0` are
/// equal and a string never equals a number.
public struct QueryValue: Sendable, Hashable, CustomStringConvertible {
    /// The value as JSON text, as it goes on the wire.
    public let json: String

    private init(json: String) {
        self.json = json
    }

    public static func string(_ value: String) -> QueryValue {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 2)
        JSON.appendString(value, to: &out)
        return QueryValue(json: String(decoding: out, as: UTF8.self))
    }

    public static func number(_ value: Int) -> QueryValue {
        QueryValue(json: String(value))
    }

    public static func number(_ value: UInt64) -> QueryValue {
        QueryValue(json: String(value))
    }

    /// A finite number; NaN and the infinities have no JSON spelling and become `null`.
    public static func number(_ value: Double) -> QueryValue {
        guard value.isFinite else { return .null }
        if value == value.rounded(), abs(value) < 1e15 {
            return QueryValue(json: String(Int64(value)))
        }
        return QueryValue(json: "\(value)")
    }

    public static func bool(_ value: Bool) -> QueryValue {
        QueryValue(json: value ? "true" : "false")
    }

    public static let null = QueryValue(json: "null")

    /// A value from its JSON text, which must be one scalar: a number, a string, `true`,
    /// `false` or `null` (whitespace around it is dropped).
    ///
    /// - Throws: ``LogbookError`` `.invalidArgument` for anything else.
    public init(jsonLiteral text: String) throws(LogbookError) {
        let bytes = Array(text.utf8)
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        let range: Range<Int>
        do {
            guard let first = scanner.isAtEnd ? nil : bytes[scanner.index], first != UInt8(ascii: "{"), first != UInt8(ascii: "[") else {
                throw JSONError("expected a number, a string, true, false or null", at: scanner.index)
            }
            range = try scanner.scanValue()
            scanner.skipWhitespace()
            guard scanner.isAtEnd else { throw JSONError("unexpected text after the JSON value", at: scanner.index) }
        } catch {
            throw LogbookError(code: .invalidArgument, message: "not a JSON literal: \(text) (\(error))")
        }
        self.init(json: String(decoding: bytes[range], as: UTF8.self))
    }

    public var description: String { self.json }
}

extension QueryValue:
    ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}
