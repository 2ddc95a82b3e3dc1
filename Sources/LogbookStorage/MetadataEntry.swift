/// One key/value pair of an event's metadata.
///
/// Metadata is kept as an ordered list rather than a dictionary so that events read back
/// compare equal to what was written and no hashing happens on the append path.
package struct MetadataEntry: Hashable, Sendable {
    package var key: String
    package var value: String

    package init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
