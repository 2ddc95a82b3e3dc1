#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

extension UnsafeRawBufferPointer {
    /// Whether a byte is 0: what protobuf-c's NUL-terminated strings cannot carry, checked
    /// both when a string is encoded and when one arrives. `memchr` scans a word at a time.
    var holdsNUL: Bool {
        guard let base = self.baseAddress else { return false }
        return memchr(base, 0, self.count) != nil
    }
}
