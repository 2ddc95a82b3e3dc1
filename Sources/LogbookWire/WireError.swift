/// A frame or message that cannot be carried: too large, malformed, or holding a value the
/// protocol forbids.
///
/// The code is the one the receiving side answers with in a connection-level `Status`
/// (`INVALID_ARGUMENT` for bytes that do not decode, `RESOURCE_EXHAUSTED` for a frame past
/// the size limit), so a decoder error maps to the wire without a second table.
package struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    package var code: Code
    package var message: String
    /// The call a well-formed but refused frame was for; nil when the bytes were not a frame.
    package var callID: UInt64?

    package init(code: Code, message: String, callID: UInt64? = nil) {
        self.code = code
        self.message = message
        self.callID = callID
    }

    package var description: String { "\(self.code): \(self.message)" }

    static func unknownEnumValue(_ value: Int64, field: StaticString) -> WireError {
        WireError(code: .invalidArgument, message: "\(field) has unknown value \(value)")
    }

    static func invalidUTF8(field: StaticString) -> WireError {
        WireError(code: .invalidArgument, message: "\(field) is not valid UTF-8")
    }

    static func embeddedNUL(field: StaticString) -> WireError {
        WireError(code: .invalidArgument, message: "\(field) contains a NUL character")
    }

    static func missing(_ field: StaticString) -> WireError {
        WireError(code: .invalidArgument, message: "\(field) is missing")
    }
}
