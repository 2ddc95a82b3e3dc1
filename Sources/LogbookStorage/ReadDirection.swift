/// The order of a read: increasing or decreasing revision (streams) or position.
package enum ReadDirection: Sendable, Hashable {
    case forwards
    case backwards
}
