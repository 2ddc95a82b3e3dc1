/// Little-endian integers at any byte offset: every integer in the log's files is stored
/// little-endian, whatever the machine.
extension UnsafeRawBufferPointer {
    func loadLittleEndian<Value: FixedWidthInteger>(at offset: Int, as: Value.Type) -> Value {
        Value(littleEndian: loadUnaligned(fromByteOffset: offset, as: Value.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    func storeLittleEndian<Value: FixedWidthInteger>(_ value: Value, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: Value.self)
    }
}
