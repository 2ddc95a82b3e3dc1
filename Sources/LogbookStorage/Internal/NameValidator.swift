/// The rule group and view names share: 1…`bytesMax` UTF-8 bytes, and no leading `$`,
/// which names the system's own (`$all`, `$streams`, …).
enum NameValidator {
    /// `kind` names what is checked in the message ("group", "view"); `reserved` says
    /// what the `$` names are kept for.
    static func validate(_ name: String, kind: String, bytesMax: Int, reserved: String) throws(StorageError) {
        guard !name.isEmpty, name.utf8.count <= bytesMax else {
            throw .invalidArgument("a \(kind) name must be 1…\(bytesMax) bytes, not \(name.utf8.count)")
        }
        guard !name.hasPrefix("$") else {
            throw .invalidArgument("a \(kind) name must not start with '$' (\(reserved)): '\(name)'")
        }
    }
}
