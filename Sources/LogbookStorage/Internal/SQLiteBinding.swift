internal import Foundation
internal import GRDB
internal import GRDBSQLite

/// Binding values to statements through SQLite's C API, for the paths that skip GRDB's
/// boxing of arguments (`EventRowInsert`, `ViewLookupReader`).
enum SQLiteBinding {
    /// SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static func bind(_ value: DatabaseValue, at index: CInt, to statement: OpaquePointer) -> CInt {
        switch value.storage {
        case .null: sqlite3_bind_null(statement, index)
        case .int64(let int): sqlite3_bind_int64(statement, index, int)
        case .double(let double): sqlite3_bind_double(statement, index, double)
        case .string(let text): bindText(statement, index, text)
        case .blob(let data): data.withUnsafeBytes { bindBlob(statement, index, $0) }
        }
    }

    /// An empty buffer may have no address, which SQLite would bind as NULL.
    static func bindBlob(_ statement: OpaquePointer, _ index: CInt, _ bytes: UnsafeRawBufferPointer) -> CInt {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_zeroblob(statement, index, 0) }
        return sqlite3_bind_blob(statement, index, base, CInt(bytes.count), transient)
    }

    static func bindText(_ statement: OpaquePointer, _ index: CInt, _ text: String) -> CInt {
        var text = text
        return text.withUTF8 { utf8 in
            guard let base = utf8.baseAddress, !utf8.isEmpty else { return sqlite3_bind_text(statement, index, "", 0, transient) }
            return sqlite3_bind_text(
                statement, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), CInt(utf8.count), transient)
        }
    }

    /// Column `index` as UTF-8 text; NULL is empty.
    static func text(_ statement: OpaquePointer, _ index: CInt) -> String {
        guard let bytes = sqlite3_column_text(statement, index) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, index))), as: UTF8.self)
    }
}
