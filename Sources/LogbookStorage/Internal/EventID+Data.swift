internal import Foundation

extension EventID {
    /// The 16 bytes as SQLite stores them (big-endian, so blobs sort like the UUIDs).
    var data: Data {
        var data = Data(count: 16)
        for index in 0..<8 {
            let shift = UInt64(56 - index * 8)
            data[index] = UInt8(truncatingIfNeeded: high >> shift)
            data[index + 8] = UInt8(truncatingIfNeeded: low >> shift)
        }
        return data
    }
}
