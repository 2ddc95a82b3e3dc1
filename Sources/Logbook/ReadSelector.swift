/// What a read covers: one stream, the whole log, a category, an event type or a
/// correlation id.
public struct ReadSelector: Sendable, Hashable, CustomStringConvertible {
    package enum Kind: Sendable, Hashable {
        case stream(String)
        case all
        case category(String)
        case eventType(String)
        case correlationID(String)
    }

    package let kind: Kind


    /// The events of one stream, by revision.
    public static func stream(_ name: String) -> ReadSelector { ReadSelector(kind: .stream(name)) }
    /// Every event in the log (`$all`), by position.
    public static let all = ReadSelector(kind: .all)
    /// The events of every stream whose name starts with `category` followed by `-`.
    public static func category(_ category: String) -> ReadSelector { ReadSelector(kind: .category(category)) }
    /// The events of one type, by position.
    public static func eventType(_ type: String) -> ReadSelector { ReadSelector(kind: .eventType(type)) }
    /// The events carrying one correlation id, by position.
    public static func correlationID(_ id: String) -> ReadSelector { ReadSelector(kind: .correlationID(id)) }

    /// Whether this selector is one stream (whose events are addressed by revision).
    public var isStream: Bool {
        if case .stream = self.kind { return true }
        return false
    }

    public var description: String {
        switch self.kind {
        case .stream(let name): "stream \(name)"
        case .all: "$all"
        case .category(let category): "category \(category)"
        case .eventType(let type): "event type \(type)"
        case .correlationID(let id): "correlation id \(id)"
        }
    }
}
