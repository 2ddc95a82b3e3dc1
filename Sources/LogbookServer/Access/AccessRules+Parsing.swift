extension AccessRules {
    /// Why a file was refused: the first line that does not parse, and how.
    package struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        package var line: Int
        package var message: String
        package var description: String { "line \(self.line): \(self.message)" }
    }

    /// Turns user and group names into ids; the system's databases by default
    /// (`SystemAccounts`), a table in tests.
    package struct Accounts: Sendable {
        package var userID: @Sendable (String) -> UInt32?
        package var groupID: @Sendable (String) -> UInt32?

        package init(userID: @escaping @Sendable (String) -> UInt32?, groupID: @escaping @Sendable (String) -> UInt32?) {
            self.userID = userID
            self.groupID = groupID
        }
    }

    /// Parses a whole file. A name that no account has is an error, not a grant to nobody:
    /// it is most likely a typo, and the file is refused so that the mistake is seen.
    package init(parsing text: String, accounts: Accounts) throws(ParseError) {
        var grants: [Grant] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let content = rawLine.prefix { $0 != "#" }
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            guard words.count >= 3 else {
                throw ParseError(line: line, message: "a grant is WHO PERMISSIONS WHAT..., like `user:billing read,append stream:billing-*`")
            }
            let who = try Self.principal(words[0], line: line, accounts: accounts)
            let permissions = try Self.permissions(words[1], line: line)
            let what = try words.dropFirst(2).map { word throws(ParseError) in try Self.pattern(word, line: line) }
            let taken = what.reduce(into: Permissions()) { $0.formUnion($1.takes) }
            for (name, permission) in Self.permissionNames where permissions.contains(permission) && !taken.contains(permission) {
                throw ParseError(line: line, message: "\(name) applies to none of \(words.dropFirst(2).joined(separator: " ")) (\(Self.applies(permission)))")
            }
            grants.append(Grant(who: who, permissions: permissions, what: what, line: line))
        }
        self.init(grants: grants)
    }

    private static let permissionNames: [(String, Permissions)] = [
        ("read", .read), ("append", .append), ("consume", .consume), ("admin", .admin),
    ]

    private static func applies(_ permission: Permissions) -> String {
        switch permission {
        case .read: "read applies to stream:, category: and view:"
        case .append: "append applies to stream: and category:"
        case .consume: "consume applies to group:"
        default: "admin applies to group:, view:, stream: and category:"
        }
    }

    private static func principal(_ word: Substring, line: Int, accounts: Accounts) throws(ParseError) -> Principal {
        if word == "*" { return .anyone }
        guard let colon = word.firstIndex(of: ":") else {
            throw ParseError(line: line, message: "'\(word)': say who with uid:N, user:NAME, gid:N, group:NAME or *")
        }
        let kind = word[..<colon]
        let value = String(word[word.index(after: colon)...])
        guard !value.isEmpty else { throw ParseError(line: line, message: "'\(word)' names no one") }
        switch kind {
        case "uid":
            guard let id = UInt32(value) else { throw ParseError(line: line, message: "'\(word)': a uid is a number") }
            return .uid(id)
        case "gid":
            guard let id = UInt32(value) else { throw ParseError(line: line, message: "'\(word)': a gid is a number") }
            return .gid(id)
        case "user":
            guard let id = accounts.userID(value) else { throw ParseError(line: line, message: "no user is named \(value)") }
            return .uid(id)
        case "group":
            guard let id = accounts.groupID(value) else { throw ParseError(line: line, message: "no group is named \(value)") }
            return .gid(id)
        default:
            throw ParseError(line: line, message: "'\(word)': say who with uid:N, user:NAME, gid:N, group:NAME or *")
        }
    }

    private static func permissions(_ word: Substring, line: Int) throws(ParseError) -> Permissions {
        var permissions = Permissions()
        for name in word.split(separator: ",", omittingEmptySubsequences: false) {
            if name == "all" {
                permissions.formUnion(.all)
            } else if let known = Self.permissionNames.first(where: { $0.0 == name }) {
                permissions.formUnion(known.1)
            } else {
                throw ParseError(line: line, message: "'\(name)' is not a permission: read, append, consume, admin or all")
            }
        }
        return permissions
    }

    private static func pattern(_ word: Substring, line: Int) throws(ParseError) -> Pattern {
        if word == "*" { return .everything }
        guard let colon = word.firstIndex(of: ":") else {
            throw ParseError(line: line, message: "'\(word)': say what with stream:, category:, group:, view: or *")
        }
        let name = word[word.index(after: colon)...]
        guard !name.isEmpty else {
            throw ParseError(line: line, message: "'\(word)' names nothing; `\(word)*` is every one")
        }
        if name.dropLast().contains("*") {
            throw ParseError(line: line, message: "'\(word)': `*` may only end a name (a prefix)")
        }
        switch word[..<colon] {
        case "stream": return .stream(NamePattern(name))
        case "category": return .category(NamePattern(name))
        case "group": return .group(NamePattern(name))
        case "view": return .view(NamePattern(name))
        default:
            throw ParseError(line: line, message: "'\(word)': say what with stream:, category:, group:, view: or *")
        }
    }
}
