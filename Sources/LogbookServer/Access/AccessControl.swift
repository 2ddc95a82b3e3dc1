internal import Foundation
package import Logging
internal import LogbookWire
internal import Synchronization

#if canImport(Glibc)
internal import Glibc
#endif

/// `logbookd --acl FILE`: the rules every call is checked against, and their reload on
/// SIGHUP. Each call reads the rules current when it starts, so open connections follow a
/// reload from their next call on; a call already running is not stopped.
package final class AccessControl: Sendable {
    package let path: String
    private let logger: Logger
    private let accounts: AccessRules.Accounts
    private let state: Mutex<State>
    /// The daemon's own user and root keep every permission, whatever the file says.
    private let unrestricted: Set<UInt32>

    private struct State {
        var rules: AccessRules
        /// Denials logged in the current window, and those left out since the last line.
        var windowStart: ContinuousClock.Instant
        var loggedInWindow = 0
        var unlogged = 0
    }

    package struct LoadError: Error, CustomStringConvertible {
        package var description: String
    }

    /// Loads the file; a file that cannot be read or parsed is refused.
    package init(path: String, logger: Logger, accounts: AccessRules.Accounts = SystemAccounts.accounts) throws(LoadError) {
        self.path = path
        self.logger = logger
        self.accounts = accounts
        self.unrestricted = [0, geteuid()]
        let rules = try Self.load(path, accounts: accounts)
        self.state = Mutex(State(rules: rules, windowStart: .now))
        logger.info("access control on", metadata: ["acl": "\(path)", "grants": "\(rules.grants.count)"])
    }

    private static func load(_ path: String, accounts: AccessRules.Accounts) throws(LoadError) -> AccessRules {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw LoadError(description: "cannot read the access file \(path): \((error as NSError).localizedDescription)")
        }
        do {
            return try AccessRules(parsing: text, accounts: accounts)
        } catch {
            throw LoadError(description: "the access file \(path) does not parse: \(error)")
        }
    }

    /// Reads the file again (SIGHUP). A file that does not load keeps the rules in force,
    /// and the log says why. Returns whether the new rules took over.
    @discardableResult
    package func reload() -> Bool {
        do {
            let rules = try Self.load(self.path, accounts: self.accounts)
            self.state.withLock { $0.rules = rules }
            self.logger.info("access rules reloaded", metadata: ["acl": "\(self.path)", "grants": "\(rules.grants.count)"])
            return true
        } catch {
            self.logger.error("access rules not reloaded; the previous ones stay in force", metadata: ["reason": "\(error)"])
            return false
        }
    }

    /// Who a new connection is, for its checks; nil for a peer that may do anything.
    /// Resolves the user's groups once, at accept (a change of membership shows on the
    /// user's next connection).
    func caller(_ peer: PeerCredentials) -> Caller? {
        guard !self.unrestricted.contains(peer.uid) else { return nil }
        var gids: Set<UInt32> = peer == .unknown ? [] : [peer.gid]
        var name: String?
        if peer != .unknown, let user = SystemAccounts.user(peer.uid) {
            name = user.name
            gids.formUnion(SystemAccounts.groups(ofUser: user.name, primary: user.gid))
        }
        return Caller(control: self, peer: peer, gids: Array(gids), name: name)
    }

    func allows(_ caller: Caller, _ permission: AccessRules.Permissions, on resource: Resource) -> Bool {
        self.state.withLock { $0.rules }.allows(uid: caller.peer.uid, gids: caller.gids, permission, on: resource)
    }

    /// The Status that refuses a call, or nil to let it in.
    func check(_ caller: Caller, _ needs: [AccessNeeds.Need]) -> Status? {
        guard !needs.isEmpty else { return nil }
        let rules = self.state.withLock { $0.rules }
        guard let missing = needs.first(where: { !rules.allows(uid: caller.peer.uid, gids: caller.gids, $0.permission, on: $0.resource) })
        else { return nil }
        let permission = Self.name(missing.permission)
        self.logDenial(caller, permission: permission, resource: missing.resource)
        return Status(code: .permissionDenied, message: "\(permission) on \(missing.resource) is not granted to \(caller.who)")
    }

    private static func name(_ permission: AccessRules.Permissions) -> String {
        switch permission {
        case .read: "read"
        case .append: "append"
        case .consume: "consume"
        default: "admin"
        }
    }

    /// At most `Limits.deniedLogsPerWindow` lines per window; the next line logged says how
    /// many were left out.
    private func logDenial(_ caller: Caller, permission: String, resource: Resource) {
        let now = ContinuousClock.now
        let unlogged: Int? = self.state.withLock { state in
            if now - state.windowStart >= Limits.deniedLogWindow {
                state.windowStart = now
                state.loggedInWindow = 0
            }
            guard state.loggedInWindow < Limits.deniedLogsPerWindow else {
                state.unlogged += 1
                return nil
            }
            state.loggedInWindow += 1
            defer { state.unlogged = 0 }
            return state.unlogged
        }
        guard let unlogged else { return }
        var metadata: Logger.Metadata = ["peer": "\(caller)", "permission": "\(permission)", "resource": "\(resource)"]
        if unlogged > 0 { metadata["denials_not_logged"] = "\(unlogged)" }
        self.logger.warning("access denied", metadata: metadata)
    }
}

/// A connection's peer as the access rules see it: its uid and every group its user is in.
struct Caller: Sendable, CustomStringConvertible {
    let control: AccessControl
    let peer: PeerCredentials
    let gids: [UInt32]
    let name: String?

    /// The user, as a denial names it.
    var who: String {
        "uid \(self.peer.uid)" + (self.name.map { " (\($0))" } ?? "")
    }

    var description: String { "\(self.who) pid \(self.peer.pid)" }

    func check(_ body: Frame.Body) -> Status? {
        self.control.check(self, AccessNeeds.of(body))
    }

    func allows(_ permission: AccessRules.Permissions, on resource: Resource) -> Bool {
        self.control.allows(self, permission, on: resource)
    }
}
