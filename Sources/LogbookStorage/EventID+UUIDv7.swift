extension EventID {
    /// A new time-ordered (UUIDv7) id, strictly greater than every one this process
    /// made before.
    package static func v7() -> EventID {
        UUIDv7Generator.shared.next()
    }
}
