internal import LogbookStorage

/// The parsed contents of an access-control file (`logbookd --acl FILE`): who may do what
/// on which streams, categories, groups and views. A value: a reload makes a new one.
///
/// One grant per line, `WHO PERMISSIONS WHAT...`; `#` starts a comment:
///
/// ```
/// user:billing   read,append   stream:billing-*  category:invoice
/// group:ops      admin         *
/// uid:1001       consume       group:billing-projector
/// *              read          view:public-*
/// ```
///
/// What is not granted is denied. Grants only add: there is no deny rule, so the order of
/// the lines does not matter.
package struct AccessRules: Sendable, Hashable {
    package var grants: [Grant]

    package init(grants: [Grant] = []) {
        self.grants = grants
    }

    /// One line of the file.
    package struct Grant: Sendable, Hashable {
        package var who: Principal
        package var permissions: Permissions
        package var what: [Pattern]
        /// Where it came from, for messages.
        package var line: Int
    }

    /// Whom a grant is for. Names in the file are resolved to ids when it is loaded.
    package enum Principal: Sendable, Hashable {
        case uid(UInt32)
        case gid(UInt32)
        case anyone
    }

    package struct Permissions: OptionSet, Sendable, Hashable {
        package let rawValue: UInt8
        package init(rawValue: UInt8) { self.rawValue = rawValue }

        package static let read = Permissions(rawValue: 1)
        package static let append = Permissions(rawValue: 2)
        package static let consume = Permissions(rawValue: 4)
        package static let admin = Permissions(rawValue: 8)
        package static let all: Permissions = [.read, .append, .consume, .admin]
    }

    /// A name in a grant: exact, or a prefix when it ends with `*` (`billing-*`; `*` alone
    /// is every name). Compared in canonical form (NFC), as the store compares stream names.
    package enum NamePattern: Sendable, Hashable {
        case exact(String)
        case prefix(String)

        init(_ text: Substring) {
            if text.hasSuffix("*") {
                self = .prefix(StreamName.lookupKey(String(text.dropLast())))
            } else {
                self = .exact(StreamName.lookupKey(String(text)))
            }
        }

        func matches(_ name: String) -> Bool {
            switch self {
            case .exact(let exact): StreamName.lookupKey(name) == exact
            case .prefix(let prefix): Self.starts(StreamName.lookupKey(name), with: prefix)
            }
        }

        /// Whether every name that starts with `prefix` matches.
        func covers(prefix: String) -> Bool {
            guard case .prefix(let own) = self else { return false }
            return Self.starts(StreamName.lookupKey(prefix), with: own)
        }

        /// Scalar by scalar, as the store's stream-prefix filter compares.
        static func starts(_ name: String, with prefix: String) -> Bool {
            name.unicodeScalars.starts(with: prefix.unicodeScalars)
        }
    }

    /// What a grant covers.
    package enum Pattern: Sendable, Hashable {
        /// `*`: everything, the server's own too (`$stats`).
        case everything
        case stream(NamePattern)
        case category(NamePattern)
        case group(NamePattern)
        case view(NamePattern)
    }

    /// Whether a caller who is `uid` with the groups `gids` may do `permission` on `resource`.
    package func allows(uid: UInt32, gids: [UInt32], _ permission: Permissions, on resource: Resource) -> Bool {
        self.grants.contains { grant in
            grant.permissions.contains(permission) && grant.who.includes(uid: uid, gids: gids)
                && grant.what.contains { $0.takes.contains(permission) && $0.covers(resource) }
        }
    }
}

extension AccessRules.Principal {
    func includes(uid: UInt32, gids: [UInt32]) -> Bool {
        switch self {
        case .uid(let own): own == uid
        case .gid(let own): gids.contains(own)
        case .anyone: true
        }
    }
}

/// What a call touches, as a permission check sees it.
package enum Resource: Sendable, Hashable, CustomStringConvertible {
    /// One stream, by name (an append, a read of a stream, a stream's deletion).
    case stream(String)
    /// Every stream whose name starts with the prefix: `$all`, or a read by event type or
    /// correlation id, narrowed by a stream-prefix filter ("" for every stream).
    case streams(prefix: String)
    case category(String)
    case group(String)
    /// Some group: a list, which shows only the granted ones.
    case someGroup
    /// Every group (`$groups`).
    case allGroups
    case view(String)
    /// Some view: a list, which shows only the granted ones.
    case someView
    /// The server itself (`$stats`).
    case server

    package var description: String {
        switch self {
        case .stream(let name): "stream \(name)"
        case .streams(let prefix): prefix.isEmpty ? "every stream" : "every stream starting with \(prefix)"
        case .category(let name): "category \(name)"
        case .group(let name): "group \(name)"
        case .someGroup: "any group"
        case .allGroups: "every group"
        case .view(let name): "view \(name)"
        case .someView: "any view"
        case .server: "the server"
        }
    }
}

extension AccessRules.Pattern {
    func covers(_ resource: Resource) -> Bool {
        switch (self, resource) {
        case (.everything, _):
            true
        case (.stream(let pattern), .stream(let name)):
            pattern.matches(name)
        case (.category(let pattern), .stream(let name)):
            pattern.matches(StreamName.category(of: name))
        case (.stream(let pattern), .streams(let prefix)):
            pattern.covers(prefix: prefix)
        case (.category(let pattern), .category(let name)):
            pattern.matches(name)
        case (.stream(let pattern), .category(let name)):
            // A category is the stream of its name and the streams starting with `name-`:
            // all start with `name`.
            pattern.covers(prefix: name)
        case (.group(let pattern), .group(let name)):
            pattern.matches(name)
        case (.group, .someGroup):
            true
        case (.group(let pattern), .allGroups):
            pattern == .prefix("")
        case (.view(let pattern), .view(let name)):
            pattern.matches(name)
        case (.view, .someView):
            true
        default:
            false
        }
    }

    /// The permissions that mean something on this kind of resource: a line that grants a
    /// permission none of its resources takes is a mistake, reported when it is loaded.
    var takes: AccessRules.Permissions {
        switch self {
        case .everything: .all
        case .stream: [.read, .append, .admin]
        case .category: [.read, .append, .admin]
        case .group: [.consume, .admin]
        case .view: [.read, .admin]
        }
    }
}
