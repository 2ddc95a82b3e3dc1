/// What a set of message values exercises, found by walking them with `Mirror`.
///
/// A field counts as set when some value holds a non-default there, by rules stricter than
/// proto3's so the samples stress the codec: a string must hold a non-ASCII character, bytes
/// a NUL and a high byte, a repeated field two or more elements.
struct MessageCoverage {
    /// Message types met, named as in Generated/Messages.swift ("Selector").
    private(set) var messages: Set<String> = []
    /// "Message.field" for every stored property met.
    private(set) var fields: Set<String> = []
    /// The subset of `fields` that some value sets (see the type's comment).
    private(set) var setFields: Set<String> = []
    /// "Message.Oneof.member" for every oneof member met.
    private(set) var oneofMembers: Set<String> = []
    /// "Enum.value" for every enum value met.
    private(set) var enumValues: Set<String> = []

    mutating func visit(_ value: Any) {
        switch value {
        case is String, is Bool, is any BinaryInteger, is [UInt8]:
            return
        default:
            break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .struct:
            let message = Self.name(of: value)
            self.messages.insert(message)
            for child in mirror.children {
                guard let label = child.label else { continue }
                self.fields.insert("\(message).\(label)")
                if Self.isSet(child.value) {
                    self.setFields.insert("\(message).\(label)")
                }
                self.visit(child.value)
            }
        case .optional, .collection:
            for child in mirror.children {
                self.visit(child.value)
            }
        case .enum:
            if value is any RawRepresentable {
                self.enumValues.insert("\(Self.name(of: value)).\(value)")
            } else if let member = mirror.children.first, let label = member.label {
                self.oneofMembers.insert("\(Self.name(of: value)).\(label)")
                self.visit(member.value)
            }
        default:
            break
        }
    }

    /// "LogbookWire.Selector.Kind" -> "Selector.Kind".
    private static func name(of value: Any) -> String {
        String(reflecting: type(of: value)).split(separator: ".").dropFirst().joined(separator: ".")
    }

    private static func isSet(_ value: Any) -> Bool {
        switch value {
        case let string as String:
            return string.unicodeScalars.contains { !$0.isASCII }
        case let bool as Bool:
            return bool
        case let bytes as [UInt8]:
            return bytes.count >= 2 && bytes.contains(0) && bytes.contains { $0 >= 0x80 }
        case let integer as any BinaryInteger:
            return Self.isNonZero(integer)
        case let enumeration as any RawRepresentable:
            return "\(enumeration.rawValue)" != "0"
        default:
            break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            return !mirror.children.isEmpty
        case .collection:
            return mirror.children.count >= 2
        default:
            return true
        }
    }

    private static func isNonZero<T: BinaryInteger>(_ value: T) -> Bool {
        value != 0
    }
}
