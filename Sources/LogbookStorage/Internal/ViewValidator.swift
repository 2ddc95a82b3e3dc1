/// Checks view definitions, JSON paths and the shape of view writes on the calling task,
/// before anything reaches the writer or a reader.
///
/// The path grammar is deliberately narrow: `$` then one or more `.name` (letters,
/// digits, `_`, not starting with a digit) or `[N]` (decimal index). Such a path holds no
/// quote, so it can be written into SQL as a `'…'` literal, and it must be: SQLite uses an
/// expression index only for a query whose expression is textually the index's,
/// `json_extract(doc, '<path>')`, never for one with a bound path.
package enum ViewValidator {
    static let pathForm = "a JSON path is '$' followed by one or more '.name' or '[index]', such as $.customer.id or $.lines[0].sku"

    package static func validate(_ definition: ViewDefinition) throws(StorageError) {
        try validateName(definition.name)
        try GroupValidator.validateName(definition.group)
        guard definition.indexedPaths.count <= StorageLimits.viewIndexedPathsMax else {
            throw .invalidArgument(
                "a view may index at most \(StorageLimits.viewIndexedPathsMax) paths, not \(definition.indexedPaths.count)")
        }
        for path in definition.indexedPaths {
            try validatePath(path)
        }
        guard Set(definition.indexedPaths).count == definition.indexedPaths.count else {
            throw .invalidArgument("view '\(definition.name)' names an indexed path twice")
        }
    }

    package static func validateName(_ name: String) throws(StorageError) {
        try NameValidator.validate(
            name, kind: "view", bytesMax: StorageLimits.viewNameBytesMax, reserved: "reserved for system views")
    }

    package static func validatePath(_ path: String) throws(StorageError) {
        guard path.utf8.count <= StorageLimits.jsonPathBytesMax, isPath(Array(path.utf8)) else {
            let shown = path.utf8.count <= StorageLimits.jsonPathBytesMax ? "'\(path)'" : "a path of \(path.utf8.count) bytes"
            throw .invalidArgument("\(shown) is not a valid JSON path: \(pathForm), at most \(StorageLimits.jsonPathBytesMax) bytes")
        }
    }

    /// `$` (`.` name | `[` digits `]`)+ over ASCII bytes.
    private static func isPath(_ bytes: [UInt8]) -> Bool {
        guard bytes.first == UInt8(ascii: "$"), bytes.count > 1 else { return false }
        var index = 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "."):
                let start = index + 1
                index = start
                while index < bytes.count, isNameByte(bytes[index], first: index == start) { index += 1 }
                guard index > start else { return false }
            case UInt8(ascii: "["):
                let start = index + 1
                index = start
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                guard index > start, index < bytes.count, bytes[index] == UInt8(ascii: "]") else { return false }
                index += 1
            default:
                return false
            }
        }
        return true
    }

    private static func isNameByte(_ byte: UInt8, first: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "_"): true
        case UInt8(ascii: "0")...UInt8(ascii: "9"): !first
        default: false
        }
    }

    /// What can be checked without the database: the count, each key, each body's size.
    /// JSON validity and the views' owners are checked on a reader (`validateViewWrites`).
    /// `countMax` is one ack's bound, or a progress save's (the writes of every ack it settles).
    package static func validateShape(_ writes: [ViewWrite], countMax: Int = StorageLimits.viewWritesPerAckMax) throws(StorageError) {
        guard writes.count <= countMax else {
            throw .invalidArgument(
                "at most \(StorageLimits.viewWritesPerAckMax) view writes per delivery acked (\(countMax) here), not \(writes.count)")
        }
        for write in writes {
            guard !write.key.isEmpty, write.key.utf8.count <= StorageLimits.viewKeyBytesMax else {
                throw .invalidArgument(
                    "a key of view '\(write.view)' must be 1…\(StorageLimits.viewKeyBytesMax) bytes, not \(write.key.utf8.count)")
            }
            if let body = write.body, body.utf8.count > StorageLimits.viewDocumentBytesMax {
                throw .invalidArgument("""
                    the document for key '\(write.key)' of view '\(write.view)' is \(body.utf8.count) bytes; \
                    at most \(StorageLimits.viewDocumentBytesMax) are allowed
                    """)
            }
        }
    }
}

extension ViewWrite {
    /// The document or patch the write carries, nil for a remove.
    package var body: String? {
        switch operation {
        case .put(let json), .merge(let json): json
        case .remove: nil
        }
    }
}
