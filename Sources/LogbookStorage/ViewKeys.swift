/// Which keys a query looks at.
package enum ViewKeys: Sendable, Hashable {
    case all
    case key(String)
    case prefix(String)
}
