/// Every bound of the segment log, in one place, each with its reason.
///
/// Sizes are bytes unless the name says otherwise.
enum LogLimits {
    // MARK: Segments

    /// The header page at the start of every segment. One page, so records start
    /// page-aligned, and room for the header to grow in later format versions.
    static let segmentHeaderBytes = 4_096

    /// A segment's size when the configuration does not say. Preallocated in one
    /// `fallocate`, because an overwrite `fdatasync` measured 85 µs here against 176 µs on a
    /// growing file (DESIGN.md §4). 64 MiB holds ~300k 200-byte events, so rolls (an extra
    /// sync, an index file, a directory fsync) are rare, and the tail a crash leaves to scan
    /// on start is at most this.
    static let segmentBytesDefault: Int64 = 64 * 1024 * 1024

    /// The smallest configurable segment: a header page and room for a few records
    /// (tests use small segments to cross many rolls).
    static let segmentBytesMin: Int64 = 16 * 1024

    /// The largest segment: offsets inside a segment are 32 bits in the index files.
    static let segmentBytesMax: Int64 = 1 << 32

    // MARK: Records

    /// Every record starts at a multiple of this, so a scan for records past a damaged
    /// one (recovery) tests one slot in 8 bytes, not every byte.
    static let recordAlignment = 8

    /// A record's length field has 30 bits; the top two are flags.
    static let recordBytesMax = (1 << 30) - 1

    // MARK: Group commit and recovery

    /// The most bytes the writer leaves unsynced: one group commit's batch under
    /// `SyncMode.full`, the bytes between two syncs under `.normal`. Recovery relies on
    /// it: a torn write can only damage the unsynced bytes, so valid records further than
    /// this past a damaged one prove damage to synced data, and the start is refused. 32 MiB
    /// holds one largest event (16 MiB of data, 64 KiB of metadata, names) with room to
    /// spare, and thousands of ordinary events; each segment records the value it was
    /// written with. Smaller segments cap it at their capacity.
    static let syncReachBytesDefault: Int64 = 32 * 1024 * 1024

    /// The smallest configurable reach: a few small records (tests use small ones to put
    /// valid records past the reach).
    static let syncReachBytesMin: Int64 = 1_024

    // MARK: Offset index

    /// Records between two entries of the sparse offset index. A lookup reads at most this
    /// many records it does not return: ~13 KiB of 200-byte records, a few pages, one read
    /// chunk. The index of a full 64 MiB segment of such records is ~5k entries, 40 KiB on
    /// disk and in memory.
    static let offsetIndexIntervalRecords: UInt64 = 64

    /// Bytes between two entries at most, whatever the record count: keeps the records a
    /// lookup skips to about one read chunk when records are large.
    static let offsetIndexIntervalBytes: Int64 = 32 * 1024

    // MARK: I/O

    /// Bytes one `pread` fetches when scanning records (reads, recovery, index rebuilds):
    /// a few hundred small records per system call, and little memory per reader.
    static let readChunkBytes = 64 * 1024

    /// Buffers one `pwritev` takes: Linux's IOV_MAX (the C macro is not imported into
    /// Swift). A batch is one buffer; the bound only matters to the seam's contract.
    static let iovecsPerWriteMax = 1_024

    /// Bytes of zeros written per call when cutting a torn tail.
    static let zeroChunkBytes = 64 * 1024
}
