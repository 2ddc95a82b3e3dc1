extension String {
    /// The text `bytes` hold, nil when they are not valid UTF-8.
    ///
    /// Checked through `UTF8Span`: the generic `String(validating:as:)` ran unspecialized
    /// in the standard library, looking up type metadata on every call, and took an eighth
    /// of the daemon's CPU when reading `$all` (five strings per event).
    init?(validatingUTF8 bytes: UnsafeRawBufferPointer) {
        guard let text = try? UTF8Span(validating: bytes.assumingMemoryBound(to: UInt8.self).span) else { return nil }
        self.init(copying: text)
    }
}
