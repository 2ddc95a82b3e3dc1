internal import GRDB

/// Where a page of a query ended: the last row's order value and key, and which query
/// it belongs to. The next page starts strictly after `(value, key)` in the query's
/// order (keyset pagination), so rows are neither skipped nor repeated however many
/// documents share an order value: keys are unique.
///
/// The value keeps its SQLite storage class so it compares exactly as it did in the
/// page that produced it (integer 1 and real 1.0 are equal, text never equals a number).
///
/// | bytes | field |
/// | --- | --- |
/// | 1 | format, 1 |
/// | 8 | fingerprint of the query (`fingerprint(of:)`), big-endian |
/// | 1 | class of the order value: 0 none (ordered by key), 1 null, 2 integer, 3 real, 4 text, 5 decimal |
/// | 0, 8 or 4 + n | the value: integer or IEEE 754 bits, big-endian; text and decimal as a big-endian length and UTF-8 |
/// | 4 + n | the key: big-endian length and UTF-8 |
package struct ViewCursor: Equatable {
    package enum Value: Equatable {
        /// The query orders by key alone.
        case none
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        /// A number as PostgreSQL's `numeric` spells it: the PostgreSQL store orders
        /// numbers exactly, past what an integer or a double holds.
        case decimal(String)
    }

    package var fingerprint: UInt64
    package var value: Value
    package var key: String

    static let format: UInt8 = 1

    /// The order value of a row as SQLite returned it; nil for a blob, which no JSON
    /// value yields.
    static func value(_ databaseValue: DatabaseValue) -> Value? {
        switch databaseValue.storage {
        case .null: .null
        case .int64(let value): .integer(value)
        case .double(let value): .real(value)
        case .string(let value): .text(value)
        case .blob: nil
        }
    }

    /// The value to bind for comparisons; nil for `.none` and `.null`.
    var databaseValue: DatabaseValue? {
        switch value {
        case .none, .null: nil
        case .integer(let value): value.databaseValue
        case .real(let value): value.databaseValue
        case .text(let value): value.databaseValue
        case .decimal(let value): (Double(value) ?? 0).databaseValue
        }
    }

    package func encoded() -> [UInt8] {
        var bytes: [UInt8] = [Self.format]
        Self.append(fingerprint, to: &bytes)
        switch value {
        case .none: bytes.append(0)
        case .null: bytes.append(1)
        case .integer(let value):
            bytes.append(2)
            Self.append(UInt64(bitPattern: value), to: &bytes)
        case .real(let value):
            bytes.append(3)
            Self.append(value.bitPattern, to: &bytes)
        case .text(let value):
            bytes.append(4)
            Self.append(value, to: &bytes)
        case .decimal(let value):
            bytes.append(5)
            Self.append(value, to: &bytes)
        }
        Self.append(key, to: &bytes)
        return bytes
    }

    /// Nil for bytes that are not a cursor of this format.
    package init?(decoding bytes: [UInt8]) {
        var reader = Reader(bytes: bytes[...])
        guard reader.byte() == Self.format, let fingerprint = reader.uint64(), let kind = reader.byte() else { return nil }
        let value: Value
        switch kind {
        case 0: value = .none
        case 1: value = .null
        case 2: guard let bits = reader.uint64() else { return nil }; value = .integer(Int64(bitPattern: bits))
        case 3: guard let bits = reader.uint64() else { return nil }; value = .real(Double(bitPattern: bits))
        case 4: guard let text = reader.text() else { return nil }; value = .text(text)
        case 5: guard let text = reader.text() else { return nil }; value = .decimal(text)
        default: return nil
        }
        guard let key = reader.text(), reader.bytes.isEmpty else { return nil }
        self.init(fingerprint: fingerprint, value: value, key: key)
    }

    package init(fingerprint: UInt64, value: Value, key: String) {
        self.fingerprint = fingerprint
        self.value = value
        self.key = key
    }

    /// FNV-1a (64-bit) over everything that decides which rows a query returns and in
    /// which order, but its limit (pages may differ in size): a cursor carried to
    /// another query is recognised, not misapplied.
    package static func fingerprint(of query: ViewQuery) -> UInt64 {
        var bytes = [UInt8]()
        append(query.view, to: &bytes)
        switch query.keys {
        case .all: bytes.append(0)
        case .key(let key): bytes.append(1); append(key, to: &bytes)
        case .prefix(let prefix): bytes.append(2); append(prefix, to: &bytes)
        }
        for predicate in query.predicates {
            append(predicate.path, to: &bytes)
            append("\(predicate.op)", to: &bytes)
            append(UInt64(predicate.values.count), to: &bytes)
            for value in predicate.values { append(value, to: &bytes) }
        }
        bytes.append(query.orderBy == nil ? 0 : 1)
        append(query.orderBy ?? "", to: &bytes)
        bytes.append(query.descending ? 1 : 0)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    private static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    private static func append(_ text: String, to bytes: inout [UInt8]) {
        let count = UInt32(clamping: text.utf8.count)
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: count >> UInt32(shift)))
        }
        bytes.append(contentsOf: text.utf8.prefix(Int(count)))
    }

    /// Reads the fields back, refusing truncated input.
    private struct Reader {
        var bytes: ArraySlice<UInt8>

        mutating func byte() -> UInt8? {
            bytes.popFirst()
        }

        mutating func uint64() -> UInt64? {
            guard bytes.count >= 8 else { return nil }
            defer { bytes.removeFirst(8) }
            return bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }

        mutating func text() -> String? {
            guard bytes.count >= 4 else { return nil }
            let count = Int(bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            bytes.removeFirst(4)
            guard bytes.count >= count else { return nil }
            defer { bytes.removeFirst(count) }
            return String(validating: bytes.prefix(count), as: UTF8.self)
        }
    }
}
