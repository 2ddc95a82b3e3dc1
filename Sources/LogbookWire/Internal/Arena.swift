internal import CProtobufC

/// A bump allocator holding every C struct, string and array of one message.
///
/// Encoding a frame builds a tree of protoc-c structs; allocating each node separately
/// costs a `malloc` per field. The arena hands out slices of a few large blocks and frees
/// them together when the arena goes away, so a typical frame costs one allocation. It also
/// serves as the `ProtobufCAllocator` for decoding, for the same reason.
final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    private var nextBlockSize: Int

    private var firstBlockSize = 0

    /// The largest first block `reset` keeps; a larger one (a rare big frame) is freed, so
    /// a reused arena holds no more than this between frames.
    static let keptBlockBytesMax = 64 * 1024

    init(capacity: Int = 4096) {
        self.nextBlockSize = max(capacity, 256)
    }

    /// Forgets everything allocated, for the next frame: keeps the first block when it is
    /// small, so a connection's frames of ordinary size allocate nothing here.
    func reset() {
        guard let first = self.blocks.first else { return }
        let keepsFirst = self.firstBlockSize <= Self.keptBlockBytesMax
        for block in self.blocks.dropFirst(keepsFirst ? 1 : 0) {
            block.deallocate()
        }
        if keepsFirst {
            self.blocks.removeSubrange(1...)
            self.cursor = first
            self.remaining = self.firstBlockSize
            self.nextBlockSize = self.firstBlockSize * 2
        } else {
            self.blocks.removeAll(keepingCapacity: true)
            self.cursor = nil
            self.remaining = 0
            self.nextBlockSize = Self.keptBlockBytesMax
        }
    }

    deinit {
        for block in self.blocks {
            block.deallocate()
        }
    }

    func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        if let cursor = self.cursor {
            let padding = (alignment - Int(bitPattern: cursor) % alignment) % alignment
            if padding + byteCount <= self.remaining {
                let result = cursor + padding
                self.cursor = result + byteCount
                self.remaining -= padding + byteCount
                return result
            }
        }
        let size = max(self.nextBlockSize, byteCount + alignment)
        self.nextBlockSize = size * 2
        // Aligned as malloc aligns, so a block's first slice needs no padding.
        let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        if self.blocks.isEmpty { self.firstBlockSize = size }
        self.blocks.append(block)
        let padding = (alignment - Int(bitPattern: block) % alignment) % alignment
        self.cursor = block + padding + byteCount
        self.remaining = size - padding - byteCount
        return block + padding
    }

    /// Uninitialised room for one `T`; the generated code initialises it with protoc-c's
    /// `__init` function before writing any field.
    func make<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        self.allocate(byteCount: MemoryLayout<T>.stride, alignment: MemoryLayout<T>.alignment)
            .bindMemory(to: T.self, capacity: 1)
    }

    /// A NUL-terminated copy. protobuf-c measures strings with `strlen`, so a string that
    /// holds a NUL would be cut short on the wire: refuse it instead.
    func string(_ value: String, field: StaticString) throws(WireError) -> UnsafeMutablePointer<CChar> {
        let count = value.utf8.count
        let pointer = self.allocate(byteCount: count + 1, alignment: 1).bindMemory(to: UInt8.self, capacity: count + 1)
        let copied: Bool? = value.utf8.withContiguousStorageIfAvailable { bytes in
            guard let base = bytes.baseAddress else { return true }
            if UnsafeRawBufferPointer(bytes).holdsNUL { return false }
            pointer.initialize(from: base, count: count)
            return true
        }
        switch copied {
        case .some(true):
            pointer[count] = 0
            return UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: CChar.self)
        case .some(false):
            throw WireError.embeddedNUL(field: field)
        case .none:
            // A bridged or lazily stored string: make it contiguous UTF-8 and try again.
            var contiguous = value
            contiguous.makeContiguousUTF8()
            return try self.string(contiguous, field: field)
        }
    }

    func bytes(_ value: [UInt8]) -> ProtobufCBinaryData {
        guard !value.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let pointer = self.allocate(byteCount: value.count, alignment: 1).bindMemory(to: UInt8.self, capacity: value.count)
        value.withUnsafeBufferPointer { pointer.initialize(from: $0.baseAddress!, count: value.count) }
        return ProtobufCBinaryData(len: value.count, data: pointer)
    }

    /// A C array of `values.count` elements made by `element`, or nil when empty.
    func array<Value, Element>(
        _ values: [Value],
        of: Element.Type,
        _ element: (Value) throws(WireError) -> Element
    ) throws(WireError) -> UnsafeMutablePointer<Element>? {
        guard !values.isEmpty else { return nil }
        let pointer = self.allocate(
            byteCount: MemoryLayout<Element>.stride * values.count,
            alignment: MemoryLayout<Element>.alignment
        ).bindMemory(to: Element.self, capacity: values.count)
        for (index, value) in values.enumerated() {
            (pointer + index).initialize(to: try element(value))
        }
        return pointer
    }

    /// A `ProtobufCAllocator` that allocates from this arena and never frees: the arena
    /// releases everything at once. Valid while the arena is alive.
    var allocator: ProtobufCAllocator {
        ProtobufCAllocator(
            alloc: { data, size in
                guard let data else { return nil }
                let arena = Unmanaged<Arena>.fromOpaque(data).takeUnretainedValue()
                return arena.allocate(byteCount: max(size, 1), alignment: 16)
            },
            free: { _, _ in },
            allocator_data: Unmanaged.passUnretained(self).toOpaque()
        )
    }
}
