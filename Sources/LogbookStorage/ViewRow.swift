/// A document and its key.
package struct ViewRow: Sendable, Hashable {
    package var key: String
    /// The document as minified JSON text.
    package var json: String

    package init(key: String, json: String) {
        self.key = key
        self.json = json
    }
}
