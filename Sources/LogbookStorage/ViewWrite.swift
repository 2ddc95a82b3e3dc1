/// One change to one document of a view, carried by an ack.
package struct ViewWrite: Sendable, Hashable {
    package enum Operation: Sendable, Hashable {
        /// A JSON document replacing the key's.
        case put(String)
        /// A JSON merge patch (RFC 7396) applied to the key's document (to `{}` when the
        /// key has none).
        case merge(String)
        /// Removes the key's document; nothing when there is none.
        case remove
    }

    package var view: String
    package var key: String
    package var operation: Operation

    package init(view: String, key: String, operation: Operation) {
        self.view = view
        self.key = key
        self.operation = operation
    }
}
