#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The messages, fields, oneof members and enum values that Generated/Messages.swift
/// declares, read from its text.
///
/// Reading the generated file, rather than keeping a list here, makes the coverage test
/// follow the protos: a field added to a .proto and regenerated is missed by the samples
/// until someone adds it there. The parser knows only the shapes scripts/swiftgen.py prints:
///
/// ```
/// package struct Selector: Sendable, Hashable {      <- message "Selector"
///     package enum Kind: Sendable, Hashable {        <- oneof "Selector.Kind"
///         case stream(String)                        <- member "Selector.Kind.stream"
///     }
///     package var kind: Kind?                        <- field "Selector.kind"
/// }
/// package enum Direction: Int32, Sendable, ... {     <- enum "Direction"
///     case forwards = 0                              <- value "Direction.forwards"
/// }
/// ```
struct GeneratedDeclarations {
    private(set) var messages: Set<String> = []
    private(set) var fields: Set<String> = []
    private(set) var oneofMembers: Set<String> = []
    private(set) var enumValues: Set<String> = []

    init(source: String) {
        var message: String?
        var oneof: String?
        var enumeration: String?
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("package struct ") {
                let name = Self.identifier(after: "package struct ", in: line)
                self.messages.insert(name)
                (message, oneof, enumeration) = (name, nil, nil)
            } else if line.hasPrefix("package enum "), line.contains(": Int32") {
                (message, oneof, enumeration) = (nil, nil, Self.identifier(after: "package enum ", in: line))
            } else if !line.hasPrefix(" ") {
                // `}`, `extension …` or a blank line: nothing after it belongs to the type.
                if line.hasPrefix("}") || line.hasPrefix("extension ") {
                    (message, oneof, enumeration) = (nil, nil, nil)
                }
            } else if let message {
                if line.hasPrefix("    package enum ") {
                    oneof = "\(message).\(Self.identifier(after: "    package enum ", in: line))"
                } else if line.hasPrefix("    package var ") {
                    self.fields.insert("\(message).\(Self.identifier(after: "    package var ", in: line))")
                } else if let oneof, line.hasPrefix("        case ") {
                    self.oneofMembers.insert("\(oneof).\(Self.identifier(after: "        case ", in: line))")
                } else if line == "    }" {
                    oneof = nil
                }
            } else if let enumeration, line.hasPrefix("    case ") {
                self.enumValues.insert("\(enumeration).\(Self.identifier(after: "    case ", in: line))")
            }
        }
    }

    /// Reads Sources/LogbookWire/Generated/Messages.swift of the checkout this file is in.
    static func load() throws -> GeneratedDeclarations {
        // Tests/LogbookWireTests/Internal/<this file> -> the package root.
        let filePath: String = #filePath
        let root = filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(4).joined(separator: "/")
        let path = root + "/Sources/LogbookWire/Generated/Messages.swift"
        guard let file = fopen(path, "r") else {
            throw ReadError(path: path)
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return GeneratedDeclarations(source: String(decoding: bytes, as: UTF8.self))
    }

    struct ReadError: Error {
        var path: String
    }

    /// The identifier that starts right after `prefix`, without backticks.
    private static func identifier(after prefix: String, in line: Substring) -> String {
        let rest = line.dropFirst(prefix.count).drop { $0 == "`" }
        return String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
    }
}
