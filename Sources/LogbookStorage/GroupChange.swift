/// A change to a group that a daemon sharing the store made (DESIGN §10), as the others
/// learn of it.
package enum GroupChange: Sendable, Equatable {
    /// Its progress moved (a save or a reset): its stored checkpoint may have.
    case progress(String)
    /// Its members or leases changed: each daemon should claim again.
    case members(String)
    /// Changes may have been missed (the notifications' connection was remade): any group
    /// may have changed in any way.
    case unknown

    /// The change a `logbook_groups` notification's payload names: a kind, then the name.
    package init(notification payload: String) {
        let name = String(payload.dropFirst())
        switch payload.first {
        case "p": self = .progress(name)
        case "m": self = .members(name)
        default: self = .unknown
        }
    }
}
